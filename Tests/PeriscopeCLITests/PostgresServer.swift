import Foundation
import PeriscopeTestSupport
import Testing

/// A real PostgreSQL 15 server for one test, started by the project's own
/// `scripts/postgres.sh` in a new folder on a free loopback port, with Temporal's
/// visibility table; `stop()` shuts it down and removes the folder.
final class PostgresServer: Sendable {
    let directory: String
    let port: Int
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let script = repository + "/scripts/postgres.sh"

    /// The connection string of its `temporal_visibility` database.
    var url: String { "host=127.0.0.1 port=\(port) user=postgres dbname=temporal_visibility" }

    static func start(schema: Bool = true) async throws -> PostgresServer {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/15/bin/pg_ctl"),
                     "PostgreSQL 15 is not installed (scripts/setup.sh installs postgresql-15)")
        let server = PostgresServer(directory: try CLITests.temporaryDirectory() + "/pg", port: try RegionProcesses.freePort(host: "127.0.0.1"))
        let started = try await spawnScript(["start", server.directory, String(server.port)])
        try #require(started.status == 0, "postgres.sh start: \(started.output)")
        if schema {
            let created = try await spawnScript(["schema", server.directory, String(server.port)])
            try #require(created.status == 0, "postgres.sh schema: \(created.output)")
        }
        return server
    }

    private init(directory: String, port: Int) {
        self.directory = directory
        self.port = port
    }

    /// Runs SQL through psql as the superuser; its output, trimmed.
    func psql(_ sql: String, database: String = "temporal_visibility") async throws -> String {
        let result = try await Spawned.run("/usr/bin/psql", ["host=127.0.0.1 port=\(port) user=postgres dbname=\(database)", "-qtAX",
                                                             "-v", "ON_ERROR_STOP=1", "-c", sql])
        try #require(result.status == 0, "psql \(sql): \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `scripts/postgres.sh` (see `Spawned` for why not Foundation's Process).
    static func spawnScript(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let outcome = try await Spawned.run(script, arguments)
        return (outcome.status, outcome.stdout + outcome.stderr)
    }

    func stop() {
        // From a synchronous `defer`: the script is waited for on this thread.
        if let stopping = try? Spawned.start(Self.script, ["stop", directory], output: Spawned.temporaryOutput()) {
            _ = stopping.waitBlocking()
            stopping.removeOutput()
        }
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: directory).deletingLastPathComponent().path)
    }
}
