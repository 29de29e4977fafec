import ArgumentParser
import Foundation
import PeriscopeModel
import PeriscopeRaft
import PeriscopeNode
import PeriscopeShard

/// `periscope shard …`: one shard replica's store, driven directly (no node yet).
struct ShardToolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shard",
        abstract: "Work with a shard replica's store: verify its indexes, benchmark it.",
        subcommands: [ShardVerifyCommand.self, ShardRebuildCommand.self, ShardBenchCommand.self, ShardLoadCommand.self]
    )
}

/// Opens the shard in `directory`, refusing to create one where there is none.
private func openExistingShard(_ directory: String) throws -> Shard {
    guard FileManager.default.fileExists(atPath: "\(directory)/CURRENT") else {
        throw ValidationError("no shard in \(directory) (no RocksDB CURRENT file)")
    }
    return try Shard.open(at: directory)
}

/// Reopens a shard, lets its indexer catch up, and recomputes every index from the records.
struct ShardVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Catch the indexes up and check them against the records (exit 1 if they differ)."
    )

    @Option(help: "The shard's directory.")
    var directory: String

    func run() throws {
        let shard = try openExistingShard(directory)
        defer { try? shard.close() }
        let before = try shard.watermarks().values.min() ?? 0
        print("applied index \(shard.appliedIndex), index watermark \(before) at open")
        let progress = try shard.indexUntilCaughtUp()
        print("indexed up to \(progress.watermark)")
        let report = try shard.verify()
        print(report)
        if !report.isConsistent { throw ExitCode(1) }
    }
}

/// Rebuilds a shard's indexes from its records, in place.
struct ShardRebuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Recompute the indexes from the records and repair what differs (online in a node; here on a stopped shard)."
    )

    @Option(help: "The shard's directory.")
    var directory: String

    func run() throws {
        let shard = try openExistingShard(directory)
        defer { try? shard.close() }
        try shard.indexUntilCaughtUp()
        let progress = try shard.rebuildIndexes()
        print("rebuilt: \(progress.keysChecked) index keys and \(progress.executionsChecked) executions checked in "
            + "\(progress.chunks) chunks; \(progress.keysAdded) keys added, \(progress.keysRemoved) removed")
        print(try shard.verify())
    }
}

/// A crash-test subject: applies synthetic executions in batches while an indexer thread
/// follows, printing progress, until killed or done.
struct ShardLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Apply synthetic executions with a concurrent indexer, printing progress (crash tests).",
        shouldDisplay: false
    )

    @Option(help: "The shard's directory.")
    var directory: String

    @Option(help: "Executions to write.")
    var executions = 1_000_000

    @Option(help: "Entries per apply call.")
    var batch = 200

    @Option(help: "Seed of the synthetic data.")
    var seed: UInt64 = 1

    func run() throws {
        guard executions > 0, batch > 0 else { throw ValidationError("--executions and --batch must be positive") }
        let shard = try Shard.open(at: directory, configuration: Shard.Configuration(indexBatchEntriesMax: 500))
        // Closed before exit on every path: a process exiting with RocksDB open can abort in
        // RocksDB's static destructors while a flush or compaction thread still runs.
        defer { try? shard.close() }
        let feeder = SyntheticFeeder(workload: SyntheticWorkload(origin: Timestamp(secondsSinceEpoch: 1_790_000_000)), seed: seed)
        let indexer = ShardIndexer(shard: shard, idleWait: .milliseconds(1))
        indexer.start()
        var written = 0
        while written < executions {
            let count = min(batch, executions - written)
            try shard.apply(feeder.commands(executions: written..<written + count))
            written += count
            let watermark = try shard.watermarks().values.min() ?? 0
            FileHandle.standardOutput.write(Data("applied \(shard.appliedIndex) executions \(written) watermark \(watermark)\n".utf8))
        }
        try indexer.stop()
        print("done: applied \(shard.appliedIndex), indexed \(try shard.watermarks().values.min() ?? 0)")
    }
}

/// Turns synthetic executions into commands: each execution's start, and the closes of
/// the previous batch's closed executions (a close follows its start later). Each command
/// is applied as one committed entry (`Shard.apply(_: [ShardCommand])`).
final class SyntheticFeeder {
    let workload: SyntheticWorkload
    private var random: SeededRandom
    private var pendingCloses: [VisibilityRecord] = []

    init(workload: SyntheticWorkload, seed: UInt64) {
        self.workload = workload
        random = SeededRandom(seed: seed)
    }

    func commands(executions range: Range<Int>) -> [PeriscopeShard.ShardCommand] {
        var commands = drain()
        for number in range {
            let (start, close) = workload.execution(number, using: &random)
            commands.append(.start(start))
            if let close { pendingCloses.append(close) }
        }
        return commands
    }

    /// The closes still waiting (for the last batch).
    func drain() -> [PeriscopeShard.ShardCommand] {
        defer { pendingCloses = [] }
        return pendingCloses.map { .close($0) }
    }
}

