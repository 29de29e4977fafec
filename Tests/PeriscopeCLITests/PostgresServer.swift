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
        let result = try await runTool("/usr/bin/psql", ["host=127.0.0.1 port=\(port) user=postgres dbname=\(database)", "-qtAX",
                                                         "-v", "ON_ERROR_STOP=1", "-c", sql])
        try #require(result.status == 0, "psql \(sql): \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `scripts/postgres.sh` on a thread of its own (see `runScriptWaiting`).
    static func spawnScript(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try runScriptWaiting(arguments) }) }
        }
    }

    /// Runs `scripts/postgres.sh` with its output in a file and waits with waitpid.
    /// (Foundation's Process never saw this script exit when it started a server that outlives
    /// it: the child stayed a zombie that waitUntilExit waited on forever.)
    static func runScriptWaiting(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let log = NSTemporaryDirectory() + "postgres-sh-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([script] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, script, &actions, nil, argv, environ)
        guard spawned == 0 else { throw NodeProcessError("posix_spawn \(script): \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return ((status >> 8) & 0xFF, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    func stop() {
        _ = try? Self.runScriptWaiting(["stop", directory])
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: directory).deletingLastPathComponent().path)
    }
}
