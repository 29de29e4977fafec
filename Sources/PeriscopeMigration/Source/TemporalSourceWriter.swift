import Foundation
import NIOPosix
import PeriscopeModel
import PeriscopePostgres
import Synchronization

/// Writes to a Temporal PostgreSQL visibility table as Temporal's server does, at a chosen
/// rate: `workers` connections, each running its own seeded `TemporalWorkload` with
/// Temporal's statements. The live load a migration must not stop (tests, benchmarks, demos).
public final class TemporalSourceWriter: Sendable {
    public struct Configuration: Sendable {
        public var conninfo: String
        public var namespaceIds: [String]
        /// Statements per second over all workers (0: as fast as they go).
        public var rate: Double
        public var workers: Int
        public var seed: UInt64

        public init(conninfo: String, namespaceIds: [String], rate: Double, workers: Int, seed: UInt64) {
            self.conninfo = conninfo
            self.namespaceIds = namespaceIds
            self.rate = rate
            self.workers = workers
            self.seed = seed
        }
    }

    /// What the writer has done so far.
    public struct Counts: Sendable, Equatable {
        public var starts = 0
        public var upserts = 0
        public var closes = 0
        public var deletes = 0
        /// Statements that changed no row (a start of an existing execution, a stale upsert).
        public var unchanged = 0
        public var failures = 0
        public var lastFailure: String?

        public var statements: Int { starts + upserts + closes + deletes }
    }

    public let configuration: Configuration
    private let counts = Mutex(Counts())
    private let stopping = Atomic<Bool>(false)

    public init(_ configuration: Configuration) {
        precondition(configuration.workers > 0 && !configuration.namespaceIds.isEmpty)
        self.configuration = configuration
    }

    public var snapshot: Counts { counts.withLock { $0 } }

    /// Asks the workers to stop after their current statement.
    public func stop() { stopping.store(true, ordering: .relaxed) }

    /// Runs until `stop()` or `duration` (nil: until stopped). Throws if the source cannot be
    /// reached or is not Temporal's table; failures of single statements are counted.
    public func run(for duration: Duration? = nil) async throws {
        let pool = NIOThreadPool(numberOfThreads: configuration.workers)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        let first = try await pool.runIfActive { [configuration] in
            let connection = try PostgresConnection(configuration.conninfo)
            _ = try TemporalSourceSchema.inspect(connection)
            return Int64(try connection.query("SELECT coalesce(max(_version), 0) FROM executions_visibility").scalar ?? "0") ?? 0
        }
        let deadline = duration.map { ContinuousClock.now + $0 }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<configuration.workers {
                group.addTask {
                    try await pool.runIfActive { try self.work(worker, firstTaskId: first + Int64(worker) * 1_000_000_000_000, until: deadline) }
                }
            }
            try await group.waitForAll()
        }
    }

    /// One worker's loop, on its own thread.
    private func work(_ worker: Int, firstTaskId: Int64, until deadline: ContinuousClock.Instant?) throws {
        let connection = try PostgresConnection(configuration.conninfo)
        var workload = TemporalWorkload(seed: configuration.seed &+ UInt64(worker) &* 0x9E37_79B9, namespaceIds: configuration.namespaceIds,
                                        firstTaskId: firstTaskId, startTime: Timestamp.wallClockNow)
        let interval = configuration.rate > 0 ? Duration.seconds(Double(configuration.workers) / configuration.rate) : .zero
        var next = ContinuousClock.now
        while !stopping.load(ordering: .relaxed) {
            if let deadline, ContinuousClock.now >= deadline { break }
            if interval > .zero {
                let wait = next - ContinuousClock.now
                if wait > .zero { Thread.sleep(forTimeInterval: wait.seconds) }
                next += interval
            }
            let operation = workload.next()
            let (sql, parameters) = operation.statement
            do {
                let affected = try connection.query(sql, parameters).affected
                counts.withLock { counts in
                    switch operation {
                    case .start: counts.starts += 1
                    case .upsert: counts.upserts += 1
                    case .close: counts.closes += 1
                    case .delete: counts.deletes += 1
                    }
                    if affected == 0 { counts.unchanged += 1 }
                }
            } catch {
                counts.withLock {
                    $0.failures += 1
                    $0.lastFailure = "\(error)"
                }
            }
        }
    }
}
