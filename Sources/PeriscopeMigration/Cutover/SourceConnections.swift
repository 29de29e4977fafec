import NIOPosix
import PeriscopePostgres
import Synchronization

/// The engine side's connections to the source: reused instead of one per call, and used on
/// threads of their own (libpq blocks, and a row lock in the source can hold a call for long),
/// so the engine's other blocking work on NIO's shared pool is not starved. Bounded: at most
/// `threads` calls run at once, each on a connection it alone holds meanwhile.
final class SourceConnections: Sendable {
    private let conninfo: String
    private let threads: NIOThreadPool
    private let idle = Mutex<[PostgresConnection]>([])
    private let idleMax: Int

    init(conninfo: String, threads count: Int) {
        self.conninfo = conninfo
        idleMax = count
        threads = NIOThreadPool(numberOfThreads: count)
        threads.start()
    }

    deinit { threads.shutdownGracefully { _ in } }

    /// Runs `body` with a connection (session settings pinned) on one of the pool's threads.
    /// A connection whose call failed is closed, not reused: its session may be mid-transaction.
    func run<Result: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> Result) async throws -> Result {
        try await threads.runIfActive { [self] in
            let connection = try idle.withLock { $0.popLast() } ?? SourceChecksums.connect(conninfo)
            let result = try body(connection)
            idle.withLock { if $0.count < idleMax { $0.append(connection) } }
            return result
        }
    }
}
