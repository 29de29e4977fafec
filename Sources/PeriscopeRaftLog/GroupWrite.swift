import PeriscopeRaft
import PeriscopeStorage

/// What one group persists in one group commit: a Ready's snapshot, entries and hard state,
/// and the application's own snapshots and compactions. Built against the group's in-memory
/// log *before* the write is applied to it, to know what the new entries replace.
public struct GroupWrite: Sendable {
    public let group: GroupID
    var hardState: HardState?
    /// A snapshot from the leader: it replaces the whole log.
    var receivedSnapshot: Snapshot?
    var entries: [Entry] = []
    /// Entries after this index are gone (a new leader's entries replaced a longer tail).
    var truncateAfter: LogIndex?
    var takenSnapshot: Snapshot?
    /// False for a commit-index-only change, which needs no fsync of its own.
    var mustSync = true
    var compaction: (index: LogIndex, term: Term)?

    public init(group: GroupID) { self.group = group }

    /// The persistent part of `ready`, for a group whose log is `log` before this write.
    public init(group: GroupID, ready: Ready, log: MemoryStorage) {
        self.init(group: group)
        hardState = ready.hardState
        mustSync = ready.mustSync
        receivedSnapshot = ready.snapshot
        entries = ready.entries
        // After a received snapshot the log is empty: nothing is left to truncate.
        if ready.snapshot == nil, let last = entries.last, last.index < log.lastIndex { truncateAfter = last.index }
    }

    /// Appends `newEntries` (tools and tests that write a log without a Raft node).
    public mutating func append(_ newEntries: [Entry]) { entries += newEntries }

    public mutating func setHardState(_ state: HardState) { hardState = state }

    /// The application recorded a snapshot (`MemoryStorage.createSnapshot`).
    public mutating func recordSnapshot(_ snapshot: Snapshot) { takenSnapshot = snapshot }

    /// The application compacted the log through `index` (`MemoryStorage.compact`).
    public mutating func recordCompaction(through index: LogIndex, term: Term) { compaction = (index, term) }

    public var isEmpty: Bool {
        hardState == nil && receivedSnapshot == nil && entries.isEmpty && takenSnapshot == nil && compaction == nil
    }

    var entryBytes: Int { entries.reduce(0) { $0 + $1.byteCount } }

    /// Adds this write's operations to `batch`, in the order the in-memory log applies them.
    func add(to batch: WriteBatch, family: ColumnFamily) throws {
        if let snapshot = receivedSnapshot {
            let metadata = snapshot.metadata
            try batch.put(LogKey.snapshot(group), LogCoding.encode(snapshot), in: family)
            try batch.put(LogKey.compaction(group), LogCoding.encodeCompaction(index: metadata.index, term: metadata.term), in: family)
            try batch.deleteRange(from: LogKey.entries(group), to: LogKey.entriesEnd(group), in: family)
        }
        for entry in entries { try batch.put(LogKey.entry(group, entry.index), LogCoding.encode(entry), in: family) }
        if let truncateAfter {
            try batch.deleteRange(from: LogKey.entry(group, truncateAfter + 1), to: LogKey.entriesEnd(group), in: family)
        }
        if let hardState { try batch.put(LogKey.hardState(group), LogCoding.encode(hardState), in: family) }
        if let takenSnapshot { try batch.put(LogKey.snapshot(group), LogCoding.encode(takenSnapshot), in: family) }
        if let (index, term) = compaction {
            try batch.put(LogKey.compaction(group), LogCoding.encodeCompaction(index: index, term: term), in: family)
            try batch.deleteRange(from: LogKey.entries(group), to: LogKey.entry(group, index + 1), in: family)
        }
    }
}
