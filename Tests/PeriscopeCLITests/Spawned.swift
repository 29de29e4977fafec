import Foundation
import Testing

/// A program started with posix_spawn, its output in files, reaped with waitpid on its own
/// pid from a thread of its own. The migration tests use it instead of Foundation's Process:
/// run beside the parallel suites, Process twice left a finished child a zombie that
/// waitUntilExit then waited on forever (once a `periscope migrate` command, once the
/// script that starts PostgreSQL).
struct Spawned: Sendable {
    let pid: pid_t
    let outputPath: String
    let errorPath: String

    static func start(_ executable: String, _ arguments: [String], output: String, errors: String? = nil) throws -> Spawned {
        let errorPath = errors ?? output + ".err"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw NodeProcessError("posix_spawn \(executable): \(spawned)") }
        return Spawned(pid: pid, outputPath: output, errorPath: errorPath)
    }

    /// Waits for it to end on a thread of its own; its exit status.
    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: waitBlocking()) }
        }
    }

    /// Waits for it to end, blocking this thread; its exit status (128 + the signal if a
    /// signal ended it).
    func waitBlocking() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    func removeOutput() {
        try? FileManager.default.removeItem(atPath: outputPath)
        try? FileManager.default.removeItem(atPath: errorPath)
    }

    /// Sends `signal` and waits for it to end.
    @discardableResult
    func stop(_ signal: Int32) async -> Int32 {
        kill(pid, signal)
        return await wait()
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
    var errors: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    /// Runs `executable` to completion: its status and output.
    static func run(_ executable: String, _ arguments: [String]) async throws -> CLITests.Outcome {
        let process = try start(executable, arguments, output: temporaryOutput())
        defer { process.removeOutput() }
        let status = await process.wait()
        return CLITests.Outcome(status: status, stdout: process.output, stderr: process.errors)
    }

    /// A new file path for a run's output.
    static func temporaryOutput() -> String { NSTemporaryDirectory() + "spawned-" + UUID().uuidString + ".out" }

    /// `periscope` with these arguments, to completion.
    static func periscope(_ arguments: String...) async throws -> CLITests.Outcome {
        try #require(FileManager.default.isExecutableFile(atPath: CLITests.binary), "build the periscope binary first: \(CLITests.binary)")
        return try await run(CLITests.binary, arguments)
    }
}
