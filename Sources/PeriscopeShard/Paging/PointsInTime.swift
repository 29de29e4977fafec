import PeriscopeStorage
import Synchronization

/// Names a point in time: the shard instance that holds it (a new one after every open, so a
/// token from before a restart cannot find a stranger's snapshot) and a sequence number.
public struct PointInTimeID: Hashable, Sendable {
    public let shardInstance: UInt64
    public let sequence: UInt64
}

/// Snapshots kept for paging, like Elasticsearch's point-in-time: each lives for the
/// keep-alive after its last use, and at most `capacity` exist (the oldest is dropped).
/// Time comes from the shard's injected clock.
final class PointsInTime: Sendable {
    private struct Entry {
        let snapshot: Snapshot
        var expires: Duration
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextSequence: UInt64 = 1
    }

    let instance: UInt64
    let keepAlive: Duration
    let capacity: Int
    private let clock: @Sendable () -> Duration
    private let state = Mutex(State())

    init(instance: UInt64, keepAlive: Duration, capacity: Int, clock: @escaping @Sendable () -> Duration) {
        self.instance = instance
        self.keepAlive = keepAlive
        self.capacity = capacity
        self.clock = clock
    }

    /// Keeps `snapshot` for the keep-alive and names it.
    func open(_ snapshot: Snapshot) -> PointInTimeID {
        let now = clock()
        return state.withLock { state in
            state.entries = state.entries.filter { $0.value.expires > now }
            if state.entries.count >= capacity, let oldest = state.entries.min(by: { $0.value.expires < $1.value.expires }) {
                state.entries[oldest.key] = nil
            }
            let sequence = state.nextSequence
            state.nextSequence += 1
            state.entries[sequence] = Entry(snapshot: snapshot, expires: now + keepAlive)
            return PointInTimeID(shardInstance: instance, sequence: sequence)
        }
    }

    /// The snapshot of a live point in time, its keep-alive renewed; nil if it expired, was
    /// dropped, or belongs to another shard instance.
    func snapshot(_ id: PointInTimeID) -> Snapshot? {
        guard id.shardInstance == instance else { return nil }
        let now = clock()
        return state.withLock { state in
            guard var entry = state.entries[id.sequence], entry.expires > now else {
                state.entries[id.sequence] = nil
                return nil
            }
            entry.expires = now + keepAlive
            state.entries[id.sequence] = entry
            return entry.snapshot
        }
    }

    func release(_ id: PointInTimeID) {
        guard id.shardInstance == instance else { return }
        _ = state.withLock { $0.entries.removeValue(forKey: id.sequence) }
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// Drops every snapshot (the shard is closing: RocksDB refuses to close under them).
    func releaseAll() { state.withLock { $0.entries.removeAll() } }
}
