import Foundation
import PeriscopeModel
import PeriscopeShard

/// The thread that keeps one shard's indexes caught up with what it applied: index a batch,
/// repeat while there is more; when caught up, run a step of the locator sweep and sleep
/// until `poke()` (a write was applied) or `idleWait` passes. **Blocking** by design: it
/// owns its thread.
public final class ShardIndexer: @unchecked Sendable {
    // @unchecked: `stopping`, `poked` and `failure` are guarded by `condition`.
    private let shard: Shard
    private let idleWait: Duration
    private let condition = NSCondition()
    private var stopping = false
    private var poked = false
    private var failure: (any Error)?
    private let finished = DispatchSemaphore(value: 0)
    /// Called after each batch with the new watermark (benchmarks measure lag with it).
    public var onBatch: (@Sendable (UInt64) -> Void)?

    public init(shard: Shard, idleWait: Duration = .milliseconds(50)) {
        self.shard = shard
        self.idleWait = idleWait
    }

    public func start(name: String = "periscope-indexer") {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    /// Something was applied: index it now rather than after the idle wait.
    public func poke() {
        condition.withLock {
            poked = true
            condition.signal()
        }
    }

    /// Why the indexer stopped on its own (a storage failure), if it did.
    public var stoppedBecause: (any Error)? { condition.withLock { failure } }

    /// Waits until the indexes cover everything applied so far, then stops the thread.
    public func stop() throws {
        condition.withLock {
            stopping = true
            condition.signal()
        }
        finished.wait()
        if let failure = condition.withLock({ failure }) { throw failure }
    }

    private func run() {
        defer { finished.signal() }
        do {
            while true {
                let progress = try shard.indexPending()
                onBatch?(progress.watermark)
                guard progress.isCaughtUp else { continue }
                if condition.withLock({ stopping }), progress.appliedIndex == shard.appliedIndex { return }
                // Idle: a step of the locator sweep (reads nothing unless retention dropped
                // something since its last clean pass), then wait for work.
                if try shard.sweepExpiredLocators().locatorsRead > 0 { continue }
                condition.withLock {
                    if !poked && !stopping { _ = condition.wait(until: Date(timeIntervalSinceNow: idleWait.seconds)) }
                    poked = false
                }
            }
        } catch {
            condition.withLock { failure = error }
        }
    }
}
