import PeriscopeRaft
import PeriscopeStorage
import Synchronization

/// The Raft logs and hard states of every group on a node, in one RocksDB.
///
/// Every `write` is one WriteBatch and one fsync, however many groups it carries: that is
/// group commit, and it is what makes durable Raft fast (an fsync costs about as much as
/// thousands of in-memory appends). Reads happen only at recovery; afterwards each group's
/// log is served from its `MemoryStorage`. **Blocking**: call from a thread made for it.
public final class RaftLogStore: Sendable {
    public let path: String
    private let database: Database
    private let family: ColumnFamily
    private let countersLock = Mutex(Counters())

    public struct Counters: Sendable, Equatable {
        /// Batches written with an fsync.
        public var fsyncs = 0
        /// Batches written, with or without an fsync.
        public var batches = 0
        public var groupWrites = 0
        public var entriesWritten = 0
        public var bytesWritten = 0
    }

    static let familyName = "raft_log"

    public init(path: String) throws {
        self.path = path
        var options = DatabaseOptions()
        options.createMissingColumnFamilies = true
        database = try Database.open(at: path, options: options, columnFamilies: [Self.familyName: ColumnFamilyOptions()])
        family = try database.requireColumnFamily(Self.familyName)
    }

    public var counters: Counters { countersLock.withLock { $0 } }

    /// Closes the database (releasing its lock, so the node can reopen it). Nothing may use
    /// the store afterwards.
    public func close() throws { try database.close() }

    /// Persists `writes` (of any number of groups) atomically with one fsync, or with none
    /// if no write needs it (commit-index-only changes).
    public func write(_ writes: [GroupWrite]) throws {
        let pending = writes.filter { !$0.isEmpty }
        guard !pending.isEmpty else { return }
        let batch = WriteBatch()
        for write in pending { try write.add(to: batch, family: family) }
        let sync = pending.contains { $0.mustSync }
        try database.write(batch, options: sync ? .durable : .buffered)
        countersLock.withLock { counters in
            counters.fsyncs += sync ? 1 : 0
            counters.batches += 1
            counters.groupWrites += pending.count
            for write in pending {
                counters.entriesWritten += write.entries.count
                counters.bytesWritten += write.entryBytes
            }
        }
    }

    /// The groups with anything stored.
    public func groups() throws -> [GroupID] {
        var groups: [GroupID] = []
        var cursorKey: Bytes = []
        while true {
            let next = try database.scan(in: family, range: KeyRange(from: cursorKey)) { entries in
                entries.first { _ in true }.flatMap { LogKey.groupOfKey($0.key) }
            }
            guard let group = next else { return groups }
            groups.append(group)
            guard group < .max else { return groups }
            cursorKey = LogKey.group(group + 1)
        }
    }

    /// Drops every record of `group` (its replica left this node).
    public func removeGroup(_ group: GroupID) throws {
        let batch = WriteBatch()
        let end = group < .max ? LogKey.group(group + 1) : LogKey.group(group) + [0xFF, 0xFF]
        try batch.deleteRange(from: LogKey.group(group), to: end, in: family)
        try database.write(batch, options: .durable)
    }

    /// Rebuilds `group`'s log as it was last fsync'd. Throws `RaftLogStoreError.corrupt` if
    /// the records do not form a log (a gap, an undecodable record, a commit past the end).
    public func recover(group: GroupID) throws -> MemoryStorage {
        func corrupt(_ detail: String) -> RaftLogStoreError { .corrupt(path: path, group: group, detail: detail) }
        let hardState = try database.get(LogKey.hardState(group), in: family).map {
            guard let state = LogCoding.decodeHardState($0) else { throw corrupt("undecodable hard state") }
            return state
        } ?? HardState()
        let snapshot = try database.get(LogKey.snapshot(group), in: family).map {
            guard let snapshot = LogCoding.decodeSnapshot($0) else { throw corrupt("undecodable snapshot") }
            return snapshot
        } ?? Snapshot()
        let compaction: (index: LogIndex, term: Term) = try database.get(LogKey.compaction(group), in: family).map {
            guard let point = LogCoding.decodeCompaction($0) else { throw corrupt("undecodable compaction point") }
            return point
        } ?? (snapshot.metadata.index, snapshot.metadata.term)
        let entries: [Entry] = try database.scan(in: family, range: .prefix(LogKey.entries(group))) { records in
            var entries: [Entry] = []
            var expected = compaction.index + 1
            for record in records {
                guard let index = LogKey.indexOfEntryKey(record.key), let entry = LogCoding.decodeEntry(record.value, index: index) else {
                    throw corrupt("undecodable entry record")
                }
                guard index == expected else { throw corrupt("the log jumps from \(expected - 1) to \(index)") }
                entries.append(entry)
                expected += 1
            }
            return entries
        }
        let lastIndex = compaction.index + LogIndex(entries.count)
        guard hardState.commit <= lastIndex else {
            throw corrupt("commit \(hardState.commit) is past the last entry \(lastIndex)")
        }
        guard snapshot.metadata.index >= compaction.index else {
            throw corrupt("compacted through \(compaction.index) beyond the snapshot at \(snapshot.metadata.index)")
        }
        return MemoryStorage(compactedThrough: compaction.index, offsetTerm: compaction.term, snapshot: snapshot,
                             hardState: hardState, entries: entries)
    }
}

public enum RaftLogStoreError: Error, Sendable, CustomStringConvertible {
    case corrupt(path: String, group: GroupID, detail: String)

    public var description: String {
        switch self {
        case .corrupt(let path, let group, let detail): return "Raft log store \(path), group \(group): \(detail)"
        }
    }
}
