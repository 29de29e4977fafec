import ArgumentParser
import Foundation
import PeriscopeRaft
import PeriscopeRaftLog

/// A crash-test subject: threads append entries to their own groups through one group
/// committer and print `ack GROUP INDEX` only after each write is fsync'd. Kill it with -9
/// at any moment; every acknowledged entry must be in the store when it reopens.
struct RaftLogWriterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log-writer",
        abstract: "Append to a Raft log store until killed, acknowledging each fsync'd entry (crash tests).",
        shouldDisplay: false
    )

    @Option(help: "The log store directory.")
    var directory: String

    @Option(help: "Groups, one writer thread each.")
    var groups = 4

    @Option(help: "Stop after this many entries per group.")
    var entriesMax = 1_000_000

    func run() throws {
        guard groups > 0 else { throw ValidationError("--groups must be positive") }
        let store = try RaftLogStore(path: directory)
        defer { try? store.close() }
        let committer = GroupCommitter(store: store)
        let output = NSLock()
        let nextIndexes = try (1...GroupID(groups)).map { try store.recover(group: $0).lastIndex + 1 }
        let entriesMax = entriesMax
        // One thread per group, all at once: the point is many callers sharing each fsync.
        let finished = DispatchSemaphore(value: 0)
        for position in 0..<groups {
            Thread.detachNewThread {
                Self.write(group: GroupID(position + 1), from: nextIndexes[position], through: LogIndex(entriesMax),
                           committer: committer, output: output)
                finished.signal()
            }
        }
        for _ in 0..<groups { finished.wait() }
    }

    private static func write(group: GroupID, from firstIndex: LogIndex, through lastIndex: LogIndex,
                              committer: GroupCommitter, output: NSLock) {
        var index = firstIndex
        while index <= lastIndex {
            var write = GroupWrite(group: group)
            write.append([LogWriterEntries.entry(group: group, index: index)])
            write.setHardState(HardState(term: 1, vote: 1, commit: index))
            if index % 50 == 0 && index > 20 {
                write.recordSnapshot(Snapshot(metadata: SnapshotMetadata(index: index - 10, term: 1), data: [1, 2, 3]))
                write.recordCompaction(through: index - 20, term: 1)
            }
            do { try committer.commit([write]) } catch {
                FileHandle.standardError.write(Data("group \(group): \(error)\n".utf8))
                Foundation.exit(1)
            }
            output.withLock { FileHandle.standardOutput.write(Data("ack \(group) \(index)\n".utf8)) }
            index += 1
        }
    }
}

/// The entry a crash-test writer puts at each position, so a checker can recompute it.
enum LogWriterEntries {
    static func entry(group: GroupID, index: LogIndex) -> Entry {
        let filler = [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: Int(index % 200))
        return Entry(term: 1, index: index, data: Array("\(group):\(index):".utf8) + filler)
    }
}

/// Reopens a crash-test store and checks every acknowledged entry survived, unchanged.
struct RaftLogCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log-check",
        abstract: "Verify a crash-tested Raft log store against the writer's acknowledgements.",
        shouldDisplay: false
    )

    @Option(help: "The log store directory.")
    var directory: String

    @Option(help: "The writer's standard output (lines `ack GROUP INDEX`).")
    var acks: String

    func run() throws {
        var acknowledged: [GroupID: LogIndex] = [:]
        var count = 0
        guard FileManager.default.fileExists(atPath: "\(directory)/CURRENT") else {
            throw ValidationError("\(directory) holds no log store (no RocksDB CURRENT file)")
        }
        guard let written = try? String(contentsOfFile: acks, encoding: .utf8) else {
            throw ValidationError("cannot read the acknowledgements file \(acks)")
        }
        for line in written.split(separator: "\n") {
            let fields = line.split(separator: " ")
            // The kill may cut the last line short: only whole lines count as acknowledged.
            guard fields.count == 3, fields[0] == "ack", let group = GroupID(fields[1]), let index = LogIndex(fields[2]) else { continue }
            acknowledged[group] = max(acknowledged[group] ?? 0, index)
            count += 1
        }
        let store = try RaftLogStore(path: directory)
        defer { try? store.close() }
        var problems: [String] = []
        for (group, highest) in acknowledged.sorted(by: { $0.key < $1.key }) {
            let log = try store.recover(group: group)
            if log.lastIndex < highest { problems.append("group \(group): acknowledged \(highest), log ends at \(log.lastIndex)") }
            if log.hardState.commit < highest { problems.append("group \(group): acknowledged \(highest), hard state commit \(log.hardState.commit)") }
            for entry in log.allEntries() where entry.index <= highest && entry != LogWriterEntries.entry(group: group, index: entry.index) {
                problems.append("group \(group): entry \(entry.index) differs from what was written")
            }
            print("group \(group): acknowledged through \(highest); recovered log \(log.firstIndex)...\(log.lastIndex), commit \(log.hardState.commit), snapshot at \(log.snapshot.metadata.index)")
        }
        print("acknowledged entries: \(count) in \(acknowledged.count) groups; fsyncs are not counted across the crash")
        guard problems.isEmpty else {
            FileHandle.standardError.write(Data((["LOST:"] + problems).joined(separator: "\n").utf8 + [10]))
            throw ExitCode(1)
        }
        print("verified: nothing acknowledged was lost")
    }
}
