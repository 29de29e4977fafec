import Foundation
import NIOPosix
import PeriscopeAPI
import PeriscopeClient
import PeriscopeModel
import PeriscopePostgres
import Synchronization

/// Copies every row of the source into Periscope, in chunks of a namespace's key range read
/// with COPY by `workers` connections at once, paced by a rate limit, each chunk recorded
/// done in the migration's state as it completes. Copies carry source order 0: any change the
/// capture brings wins over them (docs/migration.md, "Ordering").
public final class Backfill: Sendable {
    public struct Options: Sendable {
        public var workers = 4
        /// Rows per second read from the source over all workers (0: no limit).
        public var rowsPerSecond: Double = 0
        /// Rows per chunk when planning.
        public var chunkRows = 20_000
        /// Writes per ImportWrites call.
        public var batchWrites = 500

        public init() {}
    }

    /// How far it is, for the progress bar.
    public struct Progress: Sendable {
        public var rowsCopied: Int
        public var rowsPlanned: Int
        public var chunksDone: Int
        public var chunks: Int
        public var rejected: Int
    }

    let conninfo: String
    let store: MigrationStore
    let options: Options
    private let state: Mutex<MigrationState>
    private let saving = SaveQueue()

    public init(conninfo: String, store: MigrationStore, state: MigrationState, options: Options) {
        self.conninfo = conninfo
        self.store = store
        self.options = options
        self.state = Mutex(state)
    }

    public var current: MigrationState { state.withLock { $0 } }

    public var progress: Progress {
        state.withLock { Progress(rowsCopied: $0.rowsCopied, rowsPlanned: $0.rowsPlanned, chunksDone: $0.chunksDone,
                                  chunks: $0.chunks.count, rejected: $0.rejectedCount) }
    }

    /// Splits each namespace's key range into chunks of about `chunkRows` rows (one pass over
    /// the primary key per namespace). Blocking.
    public static func plan(_ connection: PostgresConnection, namespaceIds: [String], chunkRows: Int) throws -> (chunks: [BackfillChunk], rows: Int) {
        var namespaces: [(namespaceId: String, boundaries: [String])] = []
        var rows = 0
        for namespaceId in namespaceIds.sorted() {
            let count = Int(try connection.query("SELECT count(*) FROM executions_visibility WHERE namespace_id = $1", [namespaceId]).scalar ?? "0") ?? 0
            rows += count
            let boundaries = try connection.query("""
                SELECT run_id FROM (SELECT run_id, row_number() OVER (ORDER BY run_id) AS n FROM executions_visibility
                WHERE namespace_id = $1) numbered WHERE n % $2 = 0 ORDER BY run_id
                """, [namespaceId, String(max(1, chunkRows))]).rows.compactMap { $0[0] }
            namespaces.append((namespaceId, boundaries))
        }
        return (BackfillChunk.plan(namespaces), rows)
    }

    /// Copies every chunk not yet done; returns the state with them all done. Throws on the
    /// first chunk that cannot be copied (after saving what is done).
    public func run() async throws -> MigrationState {
        let pool = NIOThreadPool(numberOfThreads: options.workers)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        let limiter = RateLimiter(perSecond: options.rowsPerSecond)
        let pending = WorkQueue(current.chunks.filter { !$0.done }.map(\.id))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<options.workers {
                group.addTask {
                    while let id = pending.next() {
                        try await self.copy(chunk: id, pool: pool, limiter: limiter)
                    }
                }
            }
            try await group.waitForAll()
        }
        state.withLock { $0.phase = .backfilled }
        try await save()
        return current
    }

    /// One chunk: read on a pool thread, written to Periscope in batches, then recorded done.
    private func copy(chunk id: Int, pool: NIOThreadPool, limiter: RateLimiter) async throws {
        let (chunk, snapshot, types, namespaces) = state.withLock { ($0.chunks[id], $0.snapshot, $0.attributeTypes, $0.namespaces) }
        guard let namespace = namespaces[chunk.namespaceId] else {
            throw MigrationError.invalid("chunk \(id): source namespace \(chunk.namespaceId) is mapped to no Periscope namespace")
        }
        let read = try await pool.runIfActive { [conninfo] in
            try Self.read(chunk, conninfo: conninfo, snapshot: snapshot, types: types, limiter: limiter)
        }
        for start in stride(from: 0, to: read.writes.count, by: options.batchWrites) {
            let batch = Array(read.writes[start..<min(start + options.batchWrites, read.writes.count)])
            let response = try await store.client.importWrites(namespace: namespace, batch)
            for (write, outcome) in zip(batch, response.outcomes) where outcome.code != 0 {
                // A write refused as invalid will be refused again: it is recorded and the copy
                // goes on. Any other failure (a leader change, a node low on disk) leaves the
                // chunk not done, to be copied again when the backfill resumes.
                guard ImportRefusal.isPermanent(outcome) else {
                    throw MigrationError.invalid("chunk \(id): Periscope could not take a copy yet (\(outcome.message)); "
                        + "the chunk is not recorded done: run `migrate backfill` again")
                }
                state.withLock { $0.reject("\(chunk.namespaceId)/\(write.upsert.runID)", "Periscope refused it: \(outcome.message)") }
            }
        }
        state.withLock { state in
            state.chunks[id].done = true
            state.chunks[id].rows = read.writes.count + read.rejected.count
            for (key, why) in read.rejected { state.reject(key, why) }
        }
        try await save()
    }

    /// Saves the state as it is when its turn comes (saves run one at a time).
    private func save() async throws {
        try await saving.save(read: { self.current }, saved: { revision in self.state.withLock { $0.revision = revision } }, to: store)
    }

    /// invalid_parameter_value or feature_not_supported: the exported snapshot no longer exists.
    static func isSnapshotGone(_ error: any Error) -> Bool {
        guard let failure = error as? PostgresError else { return false }
        return failure.sqlState == "22023" || failure.sqlState == "0A000"
    }

    struct ChunkRead: Sendable {
        var writes: [Periscope_V1_ImportedWrite]
        var rejected: [(String, String)]
    }

    /// Reads one chunk with COPY in a read-only repeatable-read transaction, at the slot's
    /// exported snapshot while it exists (a later one after a restart: still exact, since
    /// copies lose to every captured change). Blocking.
    static func read(_ chunk: BackfillChunk, conninfo: String, snapshot: String?, types: [String: SearchAttributeType],
                     limiter: RateLimiter) throws -> ChunkRead {
        let connection = try PostgresConnection(conninfo)
        try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        if let snapshot {
            let quoted = try connection.literal(snapshot)
            do {
                try connection.execute("SET TRANSACTION SNAPSHOT \(quoted)")
            } catch {
                // The process that exported it is gone: read at a snapshot of our own.
                guard Self.isSnapshotGone(error) else { throw error }
                try connection.execute("ROLLBACK")
                try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            }
        }
        let columns = TemporalRow.columns.joined(separator: ", ")
        let condition = chunk.condition { (try? connection.literal($0)) ?? "NULL" }
        var read = ChunkRead(writes: [], rejected: [])
        try connection.copyOut("COPY (SELECT \(columns) FROM executions_visibility WHERE \(condition)) TO STDOUT") { line in
            limiter.take(1)
            let values = try CopyText.values(of: line)
            guard values.count == TemporalRow.columns.count else {
                read.rejected.append(("\(chunk.namespaceId)/?", "a COPY line of \(values.count) values for \(TemporalRow.columns.count) columns"))
                return
            }
            let row = TemporalRow(ordered: values)
            do {
                let record = try row.record(types: types)
                var write = Periscope_V1_ImportedWrite()
                write.upsert = RecordWire.wire(record)
                write.sourceOrder = 0
                read.writes.append(write)
            } catch {
                read.rejected.append(("\(row.key.namespaceId)/\(row.key.runId)", "\(error)"))
            }
        }
        try connection.execute("COMMIT")
        return read
    }
}

/// Runs saves of a migration's state one at a time, each of the state as it is when its turn
/// comes, so that revisions go up one by one and no save overwrites a newer one.
/// (An actor alone would not do: it takes the next call while one awaits the store.)
actor SaveQueue {
    private var tail: Task<Void, any Error>?

    func save(read: @escaping @Sendable () -> MigrationState, saved: @escaping @Sendable (Int64) -> Void, to store: MigrationStore) async throws {
        let previous = tail
        let task = Task {
            _ = try? await previous?.value
            var state = read()
            try await store.save(&state)
            saved(state.revision)
        }
        tail = task
        try await task.value
    }
}

/// Chunk ids for the workers to take, each once.
final class WorkQueue: Sendable {
    private let ids: Mutex<[Int]>

    init(_ ids: [Int]) { self.ids = Mutex(ids.reversed()) }

    func next() -> Int? { ids.withLock { $0.popLast() } }
}
