import Foundation
import PeriscopeTestSupport
import Testing

/// The shard's crash test: `periscope shard load` applies executions while its indexer
/// follows, and is killed with SIGKILL mid-indexing; `periscope shard verify` must then find
/// every applied entry and, after the indexer catches up, indexes equal to the records.
@Suite struct ShardCLITests {
    /// The last `applied A executions E watermark W` line of the loader's output.
    static func lastProgress(_ path: String) -> (applied: Int, watermark: Int)? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("applied ") && $0.contains(" watermark ") }) else { return nil }
        let words = line.split(separator: " ")
        guard words.count == 6, let applied = Int(words[1]), let watermark = Int(words[5]) else { return nil }
        return (applied, watermark)
    }

    @Test func indexesConvergeAfterKillMinusNineDuringIndexing() async throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for round in 1...2 {
            let log = "\(directory)/load-\(round)"
            let (loader, output) = try CLITests.startLogging(["shard", "load", "--directory", "\(directory)/shard",
                                                              "--executions", "400000", "--batch", "200", "--seed", "\(round)"], to: log)
            // Kill once the indexer is well under way and still behind apply.
            let underWay = await waitUntil((Self.lastProgress(log)?.watermark ?? 0) > 3_000 * round, timeout: .seconds(120))
            #expect(underWay, "the loader indexed entries before the kill")
            try CLITests.killMinusNine(loader, output: output)
            #expect(loader.terminationReason == .uncaughtSignal)
            let seen = try #require(Self.lastProgress(log))

            let verify = try await runTool(CLITests.binary, ["shard", "verify", "--directory", "\(directory)/shard"])
            #expect(verify.status == 0, "\(verify.stdout)\n\(verify.stderr)")
            #expect(verify.stdout.contains("consistent at watermark"))
            // Nothing the loader saw applied was lost (apply is not fsync'd, but the process
            // died, not the machine: RocksDB's log was in the kernel already).
            let appliedLine = verify.stdout.split(separator: "\n").first { $0.hasPrefix("applied index ") }
            let applied = appliedLine.flatMap { Int($0.split(separator: " ")[2].trimmingCharacters(in: .punctuationCharacters)) }
            #expect((applied ?? 0) >= seen.applied, "\(verify.stdout)")
        }
    }

    /// The commands a user runs on a stopped shard. (Repairing damage, online, is tested in
    /// RebuildTests, which can damage the store from inside.)
    @Test func verifyAndRebuildAHealthyShard() async throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let shard = "\(directory)/shard"
        let load = try await runTool(CLITests.binary, ["shard", "load", "--directory", shard, "--executions", "2000"])
        #expect(load.status == 0, "\(load.stderr)")
        let verify = try await runTool(CLITests.binary, ["shard", "verify", "--directory", shard])
        #expect(verify.status == 0 && verify.stdout.contains("consistent at watermark"), "\(verify.stdout)")
        let rebuild = try await runTool(CLITests.binary, ["shard", "rebuild", "--directory", shard])
        #expect(rebuild.status == 0, "\(rebuild.stderr)")
        #expect(rebuild.stdout.contains("2000 executions checked") && rebuild.stdout.contains("0 keys added, 0 removed"),
                "\(rebuild.stdout)")
        #expect(rebuild.stdout.contains("consistent at watermark"))
    }

    @Test func verifyRefusesAMissingShard() async throws {
        let result = try await runTool(CLITests.binary, ["shard", "verify", "--directory", "/nonexistent/shard"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("no shard in /nonexistent/shard"))
    }
}
