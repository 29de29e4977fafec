import Foundation
import PeriscopeRaft

/// Group commit across threads: each caller hands over its groups' writes and blocks until
/// they are fsync'd; whoever arrives while no write is under way becomes the writer and
/// persists everything queued so far (its own and every waiter's) with one fsync. Under load
/// one fsync serves many callers; alone, a caller pays exactly one fsync.
///
/// **Blocking**: callers are dedicated threads (a node's Raft workers), never the cooperative
/// pool or an event loop.
public final class GroupCommitter: @unchecked Sendable {
    // @unchecked: every mutable field is read and written only while `condition` is locked.
    private let store: RaftLogStore
    private let condition = NSCondition()
    private var queue: [(ticket: UInt64, writes: [GroupWrite])] = []
    private var nextTicket: UInt64 = 1
    private var finished: [UInt64: (any Error)?] = [:]
    private var writerActive = false
    /// One fsync carries at most this many callers' writes; the rest wait for the next.
    public let callersPerFsyncMax: Int

    public init(store: RaftLogStore, callersPerFsyncMax: Int = 1024) {
        precondition(callersPerFsyncMax > 0, "callersPerFsyncMax must be positive")
        self.store = store
        self.callersPerFsyncMax = callersPerFsyncMax
    }

    /// Returns once `writes` are durable; throws the storage error if the batch failed (then
    /// none of that batch's writes happened).
    public func commit(_ writes: [GroupWrite]) throws {
        condition.lock()
        defer { condition.unlock() }
        let ticket = nextTicket
        nextTicket += 1
        queue.append((ticket, writes))
        while true {
            if let outcome = finished.removeValue(forKey: ticket) {
                if let outcome { throw outcome }
                return
            }
            if writerActive {
                condition.wait()
                continue
            }
            writeQueuedBatch()
        }
    }

    /// Called with the lock held; releases it around the fsync so others can queue behind.
    private func writeQueuedBatch() {
        writerActive = true
        let taken = Array(queue.prefix(callersPerFsyncMax))
        queue.removeFirst(taken.count)
        condition.unlock()
        var failure: (any Error)?
        do { try store.write(taken.flatMap(\.writes)) } catch { failure = error }
        condition.lock()
        for item in taken { finished[item.ticket] = .some(failure) }
        writerActive = false
        condition.broadcast()
    }
}
