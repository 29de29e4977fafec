/// The tail of the log not yet persisted: entries (from `offset`) and perhaps a snapshot
/// received from the leader. It becomes stable when the caller reports the fsync (`advance`).
struct UnstableLog {
    var snapshot: Snapshot?
    var entries: [Entry] = []
    /// The index of `entries[0]` (or where the next unstable entry would go).
    var offset: LogIndex

    init(offset: LogIndex) { self.offset = offset }

    var firstIndexHint: LogIndex? { snapshot.map { $0.metadata.index + 1 } }

    var lastIndexHint: LogIndex? {
        if let last = entries.last { return last.index }
        return snapshot?.metadata.index
    }

    func term(at index: LogIndex) -> Term? {
        if index < offset {
            guard let snapshot, snapshot.metadata.index == index else { return nil }
            return snapshot.metadata.term
        }
        guard let last = lastIndexHint, index <= last, index - offset < entries.count else { return nil }
        return entries[Int(index - offset)].term
    }

    /// The entries up to (`index`, `term`) reached disk. A mismatched term means a newer
    /// leader replaced them meanwhile: those stay unstable.
    mutating func stableTo(index: LogIndex, term: Term) {
        guard index >= offset, self.term(at: index) == term else { return }
        entries.removeFirst(Int(index + 1 - offset))
        offset = index + 1
    }

    mutating func stableSnapshotTo(index: LogIndex) {
        if snapshot?.metadata.index == index { snapshot = nil }
    }

    mutating func restore(_ new: Snapshot) {
        offset = new.metadata.index + 1
        entries = []
        snapshot = new
    }

    mutating func truncateAndAppend(_ new: [Entry]) {
        guard let first = new.first else { return }
        let after = first.index
        if after == offset + LogIndex(entries.count) {
            entries.append(contentsOf: new)
        } else if after <= offset {
            // Replaces every unstable entry: the persisted part is truncated once these land.
            offset = after
            entries = new
        } else {
            entries.removeSubrange(Int(after - offset)...)
            entries.append(contentsOf: new)
        }
    }

    func slice(from low: LogIndex, to high: LogIndex) -> ArraySlice<Entry> {
        precondition(low >= offset && high <= offset + LogIndex(entries.count) && low <= high,
                     "unstable slice [\(low), \(high)) outside [\(offset), \(offset + LogIndex(entries.count)))")
        return entries[Int(low - offset)..<Int(high - offset)]
    }
}
