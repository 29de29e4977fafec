import NIOPosix
import Synchronization

/// The threads blocking storage work runs on.
///
/// Every `Database` call blocks its thread on disk I/O (and `write` with `sync` on an fsync).
/// Running one on a NIO event loop stalls every connection on that loop; running one on
/// Swift's cooperative pool starves every task in the process. Async code therefore hops
/// here: `try await executor.run { try database.get(key) }`.
///
/// Backed by `NIOThreadPool`, a fixed number of dedicated threads.
public final class StorageExecutor: Sendable {
    private let pool: NIOThreadPool
    private let isShutDown = Atomic<Bool>(false)
    public let threadCount: Int

    public init(threadCount: Int) {
        precondition(threadCount > 0, "StorageExecutor needs at least one thread")
        self.threadCount = threadCount
        pool = NIOThreadPool(numberOfThreads: threadCount)
        pool.start()
    }

    /// Runs `body` on one of the executor's threads and returns its result.
    ///
    /// Throws `StorageError.closed` once the executor is shut down, and `CancellationError`
    /// if the calling task is cancelled before `body` starts.
    public func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        guard !isShutDown.load(ordering: .acquiring) else { throw Self.shutDownError }
        do {
            return try await pool.runIfActive(body)
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            throw Self.shutDownError
        } catch is CancellationError where !Task.isCancelled {
            // NIO cancels work queued on a pool that is shutting down.
            throw Self.shutDownError
        }
    }

    /// Waits for queued work to finish, then stops the threads.
    public func shutdown() async throws {
        isShutDown.store(true, ordering: .releasing)
        try await pool.shutdownGracefully()
    }

    private static let shutDownError = StorageError(.closed, operation: "run", message: "the storage executor is shut down")
}
