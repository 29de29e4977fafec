/// The whole log as the core sees it: persisted storage plus the unstable tail, with the
/// commit and apply positions.
struct RaftLog {
    let storage: any RaftStorage
    var unstable: UnstableLog
    /// The highest index known to be stored on a quorum.
    var committed: LogIndex
    /// The highest index handed to the application (and acknowledged through `advance`).
    var applied: LogIndex

    init(storage: any RaftStorage) {
        self.storage = storage
        unstable = UnstableLog(offset: storage.lastIndex + 1)
        // The application restarts from the snapshot, which may sit past the compaction
        // point (compaction can keep a tail of entries for slightly lagging followers).
        let restartPoint = max(storage.firstIndex - 1, storage.snapshot.metadata.index)
        committed = restartPoint
        applied = restartPoint
    }

    var firstIndex: LogIndex { unstable.firstIndexHint ?? storage.firstIndex }
    var lastIndex: LogIndex { unstable.lastIndexHint ?? storage.lastIndex }
    var lastTerm: Term { (try? term(at: lastIndex)) ?? 0 }

    /// The last index on disk: a leader counts only these toward its own commit quorum, and
    /// only these are handed out to apply.
    var persistedLastIndex: LogIndex {
        if let snapshot = unstable.snapshot { return snapshot.metadata.index - 1 }
        return unstable.entries.isEmpty ? lastIndex : unstable.offset - 1
    }

    func term(at index: LogIndex) throws(LogReadError) -> Term {
        // The position before the first entry still has a known term (the compaction point).
        if index + 1 < firstIndex { throw .compacted }
        if index > lastIndex { throw .unavailable }
        if let term = unstable.term(at: index) { return term }
        return try storage.term(at: index)
    }

    func matchTerm(_ index: LogIndex, _ term: Term) -> Bool {
        (try? self.term(at: index)) == term
    }

    /// Whether a candidate whose log ends at (`index`, `term`) is at least as up to date.
    func isUpToDate(index: LogIndex, term: Term) -> Bool {
        term > lastTerm || (term == lastTerm && index >= lastIndex)
    }

    /// Appends a leader's entries after (`index`, `logTerm`) if the logs match there; returns
    /// the last index the message vouches for, or nil to reject.
    mutating func maybeAppend(index: LogIndex, logTerm: Term, commit: LogIndex, entries: [Entry]) -> LogIndex? {
        guard matchTerm(index, logTerm) else { return nil }
        let lastNew = index + LogIndex(entries.count)
        let conflict = findConflict(entries)
        if conflict != 0 {
            precondition(conflict > committed, "entry \(conflict) conflicts with the committed log (commit \(committed))")
            append(Array(entries[Int(conflict - index - 1)...]))
        }
        commitTo(min(commit, lastNew))
        return lastNew
    }

    @discardableResult
    mutating func append(_ entries: [Entry]) -> LogIndex {
        guard let first = entries.first else { return lastIndex }
        precondition(first.index > committed, "appending at \(first.index) would overwrite the committed log (commit \(committed))")
        unstable.truncateAndAppend(entries)
        return lastIndex
    }

    /// The first entry whose term differs from ours at its index (or that we lack); 0 if all
    /// match.
    func findConflict(_ entries: [Entry]) -> LogIndex {
        for entry in entries where !matchTerm(entry.index, entry.term) { return entry.index }
        return 0
    }

    /// The largest index at or below `index` whose term is at most `term`: where a rejected
    /// leader should probe next, skipping whole terms at a time.
    func findConflictByTerm(index: LogIndex, term: Term) -> LogIndex {
        var candidate = min(index, lastIndex)
        while candidate > 0 {
            guard let found = try? self.term(at: candidate) else { return candidate }
            if found <= term { return candidate }
            candidate -= 1
        }
        return 0
    }

    mutating func commitTo(_ index: LogIndex) {
        guard index > committed else { return }
        precondition(index <= lastIndex, "commit \(index) beyond the last index \(lastIndex)")
        committed = index
    }

    /// A leader's commit rule: only an entry of its own term commits by counting replicas.
    mutating func maybeCommit(index: LogIndex, term: Term) -> Bool {
        guard index > committed, matchTerm(index, term) else { return false }
        commitTo(index)
        return true
    }

    mutating func appliedTo(_ index: LogIndex) {
        guard index > applied else { return }
        precondition(index <= committed, "applied \(index) beyond commit \(committed)")
        applied = index
    }

    mutating func restore(_ snapshot: Snapshot) {
        committed = snapshot.metadata.index
        unstable.restore(snapshot)
    }

    /// Entries in `[low, high)` from storage and the unstable tail, cut at `bytesMax`.
    func slice(from low: LogIndex, to high: LogIndex, bytesMax: Int) throws(LogReadError) -> [Entry] {
        guard low < high else { return [] }
        if low < firstIndex { throw .compacted }
        if high > lastIndex + 1 { throw .unavailable }
        var result: [Entry] = []
        if low < unstable.offset {
            result = try storage.entries(from: low, to: min(high, unstable.offset), bytesMax: bytesMax)
            // Storage stopped early at the byte limit: the unstable part would not fit either.
            if LogIndex(result.count) < min(high, unstable.offset) - low { return result }
        }
        if high > unstable.offset {
            let tail = unstable.slice(from: max(low, unstable.offset), to: high)
            result = limitSize((result + tail)[...], bytesMax: bytesMax)
        }
        return result
    }

    var hasPendingSnapshot: Bool { unstable.snapshot != nil }

    /// Committed, persisted entries not yet handed to the application.
    func nextCommittedEntries(bytesMax: Int) -> [Entry] {
        guard !hasPendingSnapshot else { return [] }
        let low = max(applied + 1, firstIndex)
        let high = min(committed, persistedLastIndex) + 1
        guard low < high else { return [] }
        do { return try slice(from: low, to: high, bytesMax: bytesMax) } catch {
            preconditionFailure("committed entries [\(low), \(high)) unreadable: \(error)")
        }
    }

    var hasNextCommittedEntries: Bool {
        !hasPendingSnapshot && min(committed, persistedLastIndex) > max(applied, firstIndex - 1)
    }
}
