import Foundation

/// Runs long synchronous work on a thread of its own and awaits it. Swift Testing runs
/// test bodies on the two-thread cooperative pool of this machine: a body that blocks for
/// seconds starves every async test beside it (their sockets time out). Expectations
/// belong in the awaiting test, so `body` returns what to check.
public func onDedicatedThread<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Swift.Result { try body() })
        }
    }
}
