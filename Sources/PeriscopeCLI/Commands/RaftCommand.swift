import ArgumentParser
import Dispatch
import Foundation
import PeriscopeRaftSimulator
import Synchronization

struct RaftCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raft",
        abstract: "Exercise the Raft core: the seeded cluster simulator and the log store benchmark.",
        subcommands: [RaftSimulateCommand.self, RaftBenchCommand.self, RaftLogWriterCommand.self, RaftLogCheckCommand.self]
    )
}

/// Runs the whole-cluster simulator over a range of seeds. Each seed draws its own fault mix;
/// any violated property prints the seed that replays it (`--seed N --trace`).
struct RaftSimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run the seeded Raft cluster simulator and check its invariants.",
        discussion: "Exit status: 0 when every seed held every property, 1 when one did not."
    )

    @Option(help: "How many seeds to run.")
    var seeds = 100

    @Option(help: "The first seed; seeds run from here upward.")
    var firstSeed: UInt64 = 1

    @Option(help: "Run this one seed only (overrides --seeds/--first-seed).")
    var seed: UInt64?

    @Option(help: "Ticks of faults per seed before the network heals.")
    var ticks = 1200

    @Option(help: "Seeds simulated in parallel.")
    var jobs = 2

    @Flag(help: "Print each seed's report, not just the totals.")
    var verbose = false

    @Flag(help: "Print the events leading to a violation.")
    var trace = false

    func validate() throws {
        guard seeds > 0, ticks > 0, jobs > 0 else { throw ValidationError("--seeds, --ticks and --jobs must be positive") }
    }

    func run() throws {
        let range: [UInt64] = seed.map { [$0] } ?? (0..<UInt64(seeds)).map { firstSeed &+ $0 }
        let totals = Mutex(SimulationTotals())
        let started = Date()
        let chaosTicks = ticks
        let verbose = verbose || seed != nil
        DispatchQueue.concurrentPerform(iterations: min(jobs, range.count)) { worker in
            for position in stride(from: worker, to: range.count, by: jobs) {
                let report = ClusterSimulation(config: .forSeed(range[position], chaosTicks: chaosTicks)).run()
                totals.withLock { $0.add(report) }
                if verbose || !report.violations.isEmpty { print(report.description) }
            }
        }
        let summary = totals.withLock { $0 }
        print(summary.description(elapsedSeconds: Date().timeIntervalSince(started)))
        guard let failed = summary.firstFailure else { return }
        print("replay: periscope raft simulate --seed \(failed.seed) --trace")
        if trace { print(failed.trace.joined(separator: "\n")) }
        throw ExitCode(1)
    }
}

struct SimulationTotals {
    var seeds = 0
    var ticks = 0
    var proposals = 0
    var acknowledged = 0
    var elections = 0
    var crashes = 0
    var crashesInsideReady = 0
    var partitions = 0
    var dropped = 0
    var duplicated = 0
    var transfers = 0
    var membershipChanges = 0
    var snapshots = 0
    var reads = 0
    var worstLivenessTicks = 0
    var violations = 0
    var firstFailure: SimulationReport?

    mutating func add(_ report: SimulationReport) {
        seeds += 1
        ticks += report.ticks
        proposals += report.proposalsAccepted
        acknowledged += report.proposalsAcknowledged
        elections += report.elections
        crashes += report.crashes
        crashesInsideReady += report.crashesInsideReady
        partitions += report.partitions
        dropped += report.messagesDropped
        duplicated += report.messagesDuplicated
        transfers += report.transfersRequested
        membershipChanges += report.membershipChanges
        snapshots += report.snapshotsInstalled
        reads += report.readsAnswered
        worstLivenessTicks = max(worstLivenessTicks, report.livenessTicks)
        violations += report.violations.count
        if !report.violations.isEmpty && (firstFailure == nil || report.seed < firstFailure!.seed) { firstFailure = report }
    }

    func description(elapsedSeconds: Double) -> String {
        """
        seeds run: \(seeds) (\(ticks) ticks) in \(String(format: "%.1f", elapsedSeconds)) s
        proposals: \(proposals) accepted, \(acknowledged) acknowledged; \(elections) leaders elected; \(reads) reads checked
        faults injected: \(crashes) crashes (\(crashesInsideReady) inside a Ready, losing unsynced writes), \
        \(partitions) partitions, \(dropped) messages dropped, \(duplicated) duplicated, \(transfers) leader transfers, \
        \(membershipChanges) membership changes, \(snapshots) snapshots installed
        slowest recovery after healing: \(worstLivenessTicks) ticks
        violations: \(violations)
        """
    }
}
