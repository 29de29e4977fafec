import Foundation
import PeriscopeModel
import Synchronization

/// Paces work to `perSecond` units across threads (0: no limit): each caller takes its units
/// and sleeps until the schedule allows them. Protects a live source from the backfill.
public final class RateLimiter: Sendable {
    private let perSecond: Double
    private let next = Mutex<ContinuousClock.Instant>(.now)

    public init(perSecond: Double) { self.perSecond = perSecond }

    /// Blocks the calling thread (never call it on the cooperative pool).
    public func take(_ units: Int) {
        guard perSecond > 0, units > 0 else { return }
        let cost = Duration.seconds(Double(units) / perSecond)
        let wait = next.withLock { next -> Duration in
            let now = ContinuousClock.now
            let start = max(next, now)
            next = start + cost
            return start - now
        }
        if wait > .zero { Thread.sleep(forTimeInterval: wait.seconds) }
    }
}
