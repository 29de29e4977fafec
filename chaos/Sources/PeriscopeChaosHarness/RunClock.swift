import PeriscopeModel

/// Time since the run started: the history's and the schedule's time base.
struct RunClock: Sendable {
    let start = ContinuousClock.now

    var nowNs: Int64 { (ContinuousClock.now - start).nanoseconds }

    var nowMs: Int { Int(nowNs / 1_000_000) }

    func sleep(untilMs ms: Int) async throws {
        let left = start + .milliseconds(ms) - ContinuousClock.now
        if left > .zero { try await Task.sleep(for: left) }
    }
}
