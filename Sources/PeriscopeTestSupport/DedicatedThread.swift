import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs long synchronous work on a thread of its own, at the lowest scheduling priority,
/// and awaits it. Swift Testing runs test bodies on the cooperative pool (two threads on
/// this machine): a body that blocks for seconds would starve every async test beside it,
/// and a busy thread at normal priority still slows the tests that measure time (deadlines,
/// cancellations). At nice 19 it uses only the CPU they leave. Expectations belong in the
/// awaiting test, so `body` returns what to check.
public func onDedicatedThread<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            #if canImport(Glibc)
            // On Linux (NPTL) the nice value is per thread: `who` 0 lowers only this one.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
            #endif
            continuation.resume(with: Swift.Result { try body() })
        }
    }
}
