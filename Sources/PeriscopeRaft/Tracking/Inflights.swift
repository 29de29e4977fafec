/// The append messages sent to one follower and not yet acknowledged, by the last index each
/// carried. Bounded: when full, the leader stops sending to that follower (pipelining depth).
struct Inflights {
    let capacity: Int
    private var lastIndexes: [LogIndex] = []

    init(capacity: Int) { self.capacity = capacity }

    var isFull: Bool { lastIndexes.count >= capacity }
    var count: Int { lastIndexes.count }

    mutating func add(_ lastIndex: LogIndex) {
        precondition(!isFull, "inflight window of \(capacity) overflowed")
        lastIndexes.append(lastIndex)
    }

    /// Frees every message whose last index is at most `index` (acknowledged together).
    mutating func freeThrough(_ index: LogIndex) {
        let acknowledged = lastIndexes.prefix { $0 <= index }.count
        lastIndexes.removeFirst(acknowledged)
    }

    /// Forgets the oldest message (presumed lost) so one more can go out.
    mutating func freeFirst() {
        if !lastIndexes.isEmpty { lastIndexes.removeFirst() }
    }

    mutating func reset() { lastIndexes.removeAll(keepingCapacity: true) }
}
