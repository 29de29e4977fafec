import NIOPosix

/// Runs blocking libpq work off the cooperative pool and the event loops, on NIO's thread pool.
public func onPostgresThread<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
    try await NIOThreadPool.singleton.runIfActive(body)
}
