import ArgumentParser

/// The `periscope` command line. Each subcommand lives in `Commands/`.
@main
struct Periscope: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "periscope",
        abstract: "Periscope: a replicated visibility store for workflow engines.",
        discussion: """
            Built so far: the storage layer (RocksDB), the record model, and the HTTP/2 RPC layer \
            (`periscope rpc serve`). The node server, queries and clusters are not built yet; see \
            README.md, "Status".
            """,
        version: PeriscopeVersion.current,
        subcommands: [VersionCommand.self, StorageCommand.self, RPCCommand.self]
    )

    /// With no subcommand: say what this build can do, then the usage.
    func run() async throws {
        print("periscope \(PeriscopeVersion.current)")
        print("The node server is not built yet; today this binary inspects and compacts storage directories "
            + "and serves the RPC layer's health and diagnostics services (`periscope rpc serve`).\n")
        print(Periscope.helpMessage())
    }
}

enum PeriscopeVersion {
    static let current = "0.1.0-dev"
}
