import ArgumentParser

/// The `periscope` command line. Each subcommand lives in `Commands/`.
@main
struct Periscope: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "periscope",
        abstract: "Periscope: a replicated visibility store for workflow engines.",
        discussion: """
            Start a node with `periscope node start` (data in ./data, listening on 127.0.0.1:7280), then write \
            and query it with `periscope write`, `periscope query list|count|explain`, `periscope namespace` and \
            `periscope search-attribute`. A single node runs every shard as a Raft group of one; a region of \
            3 or 5 nodes replicates every shard on each (`periscope cluster init|add-node|remove-node`, \
            `cluster/start.sh`). See README.md, "Status", for what is not built yet.
            """,
        version: PeriscopeVersion.current,
        subcommands: [NodeCommand.self, ClusterCommand.self, NamespaceCommand.self, SearchAttributeCommand.self, WriteCommand.self, QueryCommand.self, MigrateCommand.self,
                      BenchCommand.self, VersionCommand.self, StorageCommand.self, RPCCommand.self, RaftCommand.self,
                      ShardToolCommand.self]
    )

    /// With no subcommand: say what this build can do, then the usage.
    func run() async throws {
        print("periscope \(PeriscopeVersion.current)")
        print("Start a node: `periscope node start` (one node, data in ./data, 127.0.0.1:7280). "
            + "A replicated region: `cluster/start.sh` or `periscope cluster init`. "
            + "Migration from Temporal's PostgreSQL store: `periscope migrate start|backfill|capture|status` (docs/migration.md).\n")
        print(Periscope.helpMessage())
    }
}

enum PeriscopeVersion {
    static let current = "0.1.0-dev"
}
