import Synchronization

/// Wakes tasks waiting for something to happen (a shard applied entries, the catalog
/// changed): `ring` from any thread, never blocking; `wait` returns at the next ring after
/// the waiter's last, or when `timeout` passes. A ring with no one waiting is remembered by
/// its count, so a waiter that was busy sees it at once.
final class Doorbell: Sendable {
    private struct State {
        var rings: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
        /// Waits under way, and those whose timeout (or cancellation) came before they parked.
        var active: Set<UInt64> = []
        var expired: Set<UInt64> = []
    }
    private let state = Mutex(State())

    func ring() {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.rings &+= 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Rings so far: pass the value seen last to `wait(after:)`.
    var rings: UInt64 { state.withLock { $0.rings } }

    /// Returns once the bell rang after `seen` rings, or `timeout` passed, or the task is cancelled.
    func wait(after seen: UInt64, timeout: Duration) async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter &+= 1
            state.active.insert(state.nextWaiter)
            return state.nextWaiter
        }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            self?.wake(id)
        }
        defer {
            timer.cancel()
            state.withLock { state in
                state.active.remove(id)
                state.expired.remove(id)
            }
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.rings != seen || state.expired.contains(id) || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            wake(id)
        }
    }

    private func wake(_ id: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
            if state.active.contains(id) { state.expired.insert(id) }
            return nil
        }
        waiter?.resume()
    }
}
