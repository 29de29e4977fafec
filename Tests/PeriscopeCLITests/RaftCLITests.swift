import Foundation
import Testing
import PeriscopeTestSupport

/// The Raft simulator's seed sweep and the log store's kill -9 test, each in its own process:
/// a failed precondition there is a reported failure with its seed, not a dead test runner.
@Suite struct RaftCLITests {
    @Test func theSimulatorHoldsEveryPropertyAcrossManySeeds() async throws {
        let result = try await runTool(CLITests.binary, ["raft", "simulate", "--seeds", "500", "--first-seed", "1", "--jobs", "1"],
                                       timeout: .seconds(600))
        #expect(result.status == 0, "\(result.stdout.suffix(3000))\n\(result.stderr.suffix(2000))")
        #expect(result.stdout.contains("seeds run: 500"))
        #expect(result.stdout.contains("violations: 0"))
    }

    @Test func aSeedReplaysAndAViolationWouldBeReportedWithItsSeed() async throws {
        let result = try await runTool(CLITests.binary, ["raft", "simulate", "--seed", "5"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("seed 5: "))
        let again = try await runTool(CLITests.binary, ["raft", "simulate", "--seed", "5"])
        #expect(again.stdout.split(separator: "\n").first == result.stdout.split(separator: "\n").first)
    }

    @Test func badOptionsAndMissingFilesAreClearErrors() async throws {
        let noSeeds = try await runTool(CLITests.binary, ["raft", "simulate", "--seeds", "0"])
        #expect(noSeeds.status == 64)
        #expect(noSeeds.stderr.contains("--seeds, --ticks and --jobs must be positive"))
        let badProposers = try await runTool(CLITests.binary, ["raft", "bench", "--proposers", "many"])
        #expect(badProposers.status == 64)
        #expect(badProposers.stderr.contains("--proposers needs positive counts"))
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let noStore = try await runTool(CLITests.binary, ["raft", "log-check", "--directory", "\(directory)/log", "--acks", "\(directory)/none"])
        #expect(noStore.status == 64)
        #expect(noStore.stderr.contains("\(directory)/log holds no log store"))
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/log"), "checking creates nothing")
        _ = try await runTool(CLITests.binary, ["raft", "log-writer", "--directory", "\(directory)/log", "--groups", "1", "--entries-max", "3"])
        let noAcks = try await runTool(CLITests.binary, ["raft", "log-check", "--directory", "\(directory)/log", "--acks", "\(directory)/none"])
        #expect(noAcks.status == 64)
        #expect(noAcks.stderr.contains("cannot read the acknowledgements file \(directory)/none"))
    }

    @Test func acknowledgedLogWritesSurviveKillMinusNine() async throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for round in 1...2 {
            // Round 2 reopens the crashed store, recovers and keeps writing, then dies again.
            let acks = "\(directory)/acks-\(round)"
            let (writer, output) = try CLITests.startLogging(["raft", "log-writer", "--directory", "\(directory)/log", "--groups", "6"],
                                                            to: acks)
            let enough = await waitUntil(((try? Data(contentsOf: URL(fileURLWithPath: acks)))?.count ?? 0) > 60_000,
                                         timeout: .seconds(60))
            #expect(enough, "the writer acknowledged writes before the kill")
            try CLITests.killMinusNine(writer, output: output)
            #expect(writer.terminationReason == .uncaughtSignal)
            let check = try await runTool(CLITests.binary, ["raft", "log-check", "--directory", "\(directory)/log", "--acks", acks])
            #expect(check.status == 0, "\(check.stdout)\n\(check.stderr)")
            #expect(check.stdout.contains("verified: nothing acknowledged was lost"))
        }
    }
}
