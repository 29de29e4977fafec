/// A replica's persisted log held in memory: the simulator's disk, and the cache the log
/// store fills on recovery.
///
/// The log starts after `offset`, the last compacted position, whose term is still known so
/// the entry after it can be matched. The latest snapshot sits at or after that offset:
/// compaction may keep a tail of entries the snapshot already covers, so followers slightly
/// behind get entries instead of a whole snapshot.
public final class MemoryStorage: RaftStorage {
    public private(set) var hardState = HardState()
    public private(set) var snapshot = Snapshot()
    private var offsetIndex: LogIndex = 0
    private var offsetTerm: Term = 0
    /// Entries `offsetIndex + 1 ...`.
    private var entries: [Entry] = []

    public init() {}

    /// A storage that starts from `snapshot` (a cluster's genesis, or a recovered log).
    public convenience init(snapshot: Snapshot, hardState: HardState = HardState(), entries: [Entry] = []) {
        self.init()
        applySnapshot(snapshot)
        append(entries)
        setHardState(hardState)
    }

    /// A storage rebuilt from disk: compacted through (`offsetIndex`, `offsetTerm`), which may
    /// sit before the snapshot when compaction kept a tail of entries.
    public convenience init(compactedThrough offsetIndex: LogIndex, offsetTerm: Term, snapshot: Snapshot, hardState: HardState, entries: [Entry]) {
        self.init()
        self.snapshot = snapshot
        self.offsetIndex = offsetIndex
        self.offsetTerm = offsetTerm
        append(entries)
        setHardState(hardState)
    }

    /// The compaction point: entries after it are held; its term is still known.
    public var compactedThrough: (index: LogIndex, term: Term) { (offsetIndex, offsetTerm) }

    /// Writes what a Ready asks to persist, in the order a crash must respect: snapshot,
    /// entries, then the hard state that may point into them.
    public func persist(_ ready: Ready) {
        if let snapshot = ready.snapshot { applySnapshot(snapshot) }
        append(ready.entries)
        if let hardState = ready.hardState { setHardState(hardState) }
    }

    public func initialState() -> (HardState, ConfState) { (hardState, snapshot.metadata.confState) }

    public var firstIndex: LogIndex { offsetIndex + 1 }
    public var lastIndex: LogIndex { offsetIndex + LogIndex(entries.count) }

    public func term(at index: LogIndex) throws(LogReadError) -> Term {
        if index < offsetIndex { throw .compacted }
        if index == offsetIndex { return offsetTerm }
        guard index <= lastIndex else { throw .unavailable }
        return entries[Int(index - offsetIndex - 1)].term
    }

    public func entries(from low: LogIndex, to high: LogIndex, bytesMax: Int) throws(LogReadError) -> [Entry] {
        if low <= offsetIndex { throw .compacted }
        guard high <= lastIndex + 1 else { throw .unavailable }
        guard low < high else { return [] }
        return limitSize(entries[Int(low - offsetIndex - 1)..<Int(high - offsetIndex - 1)], bytesMax: bytesMax)
    }

    /// The persisted entries from `low` on (tests, the simulator's checks, the log store).
    public func allEntries(from low: LogIndex? = nil) -> [Entry] {
        let start = Int((low ?? firstIndex) - firstIndex)
        return start < entries.count ? Array(entries[max(0, start)...]) : []
    }

    // MARK: Writes (the caller's, after a Ready)

    public func setHardState(_ state: HardState) { hardState = state }

    /// Appends `newEntries`, replacing any existing suffix they overlap (a new leader's log
    /// wins over an old one's). Entries already compacted are skipped.
    public func append(_ newEntries: [Entry]) {
        guard let first = newEntries.first else { return }
        precondition(first.index <= lastIndex + 1, "appending \(first.index) leaves a gap after \(lastIndex)")
        let fresh = newEntries.drop { $0.index <= offsetIndex }
        guard let freshFirst = fresh.first else { return }
        entries.removeSubrange(Int(freshFirst.index - offsetIndex - 1)...)
        entries.append(contentsOf: fresh)
    }

    /// Installs a snapshot received from the leader: the whole log is replaced and restarts
    /// after it. (A core hands one out only when its log disagrees at the snapshot's index,
    /// so no entry here is worth keeping; etcd's storage does the same.)
    public func applySnapshot(_ new: Snapshot) {
        let index = new.metadata.index
        guard index > snapshot.metadata.index || snapshot.isEmpty else { return }
        entries = []
        offsetIndex = index
        offsetTerm = new.metadata.term
        snapshot = new
    }

    /// Records the state machine at `index` (already applied by the caller) as the snapshot
    /// lagging followers receive.
    public func createSnapshot(at index: LogIndex, confState: ConfState, data: [UInt8]) throws(LogReadError) {
        guard index > snapshot.metadata.index else { throw .compacted }
        let term = try term(at: index)
        snapshot = Snapshot(metadata: SnapshotMetadata(index: index, term: term, confState: confState), data: data)
    }

    /// Drops the entries up to `index`, which the snapshot must cover.
    public func compact(through index: LogIndex) throws(LogReadError) {
        guard index > offsetIndex else { throw .compacted }
        precondition(index <= snapshot.metadata.index,
                     "compacting through \(index) beyond the snapshot at \(snapshot.metadata.index)")
        offsetTerm = try term(at: index)
        entries.removeFirst(Int(index - offsetIndex))
        offsetIndex = index
    }
}
