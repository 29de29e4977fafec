/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns its last value.
/// For state that another thread settles (a server's statistics after a peer left).
public func waitUntil(_ condition: @autoclosure () -> Bool, timeout: Duration = .seconds(5)) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Polls an asynchronous `condition` every `interval` until it holds or `timeout` passes.
public func waitUntil(timeout: Duration, interval: Duration = .milliseconds(50), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return await condition()
}
