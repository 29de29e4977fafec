import ArgumentParser

/// The `periscope` command line. Each subcommand lives in `Commands/`.
@main
struct Periscope: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "periscope",
        abstract: "Periscope: a replicated visibility store for workflow engines.",
        discussion: """
            Built so far: the storage layer (RocksDB), the record model, the HTTP/2 RPC layer \
            (`periscope rpc serve`), the query language (`periscope query check`) and the Raft \
            core with its simulator and log store (`periscope raft simulate`, `periscope raft bench`), and the \
            shard engine (`periscope shard verify`, `periscope shard bench`). The node server and clusters are \
            not built yet; see README.md, "Status".
            """,
        version: PeriscopeVersion.current,
        subcommands: [VersionCommand.self, StorageCommand.self, RPCCommand.self, QueryCommand.self, RaftCommand.self,
                      ShardToolCommand.self]
    )

    /// With no subcommand: say what this build can do, then the usage.
    func run() async throws {
        print("periscope \(PeriscopeVersion.current)")
        print("The node server is not built yet; today this binary inspects and compacts storage directories, "
            + "serves the RPC layer's health and diagnostics services (`periscope rpc serve`), "
            + "checks queries (`periscope query check`), runs the Raft simulator (`periscope raft`), "
            + "and verifies and benchmarks a shard's store (`periscope shard`).\n")
        print(Periscope.helpMessage())
    }
}

enum PeriscopeVersion {
    static let current = "0.1.0-dev"
}
