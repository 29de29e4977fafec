import Foundation
import PeriscopeAPI
import PeriscopeClient
import PeriscopeModel
import PeriscopePostgres
import PeriscopeQuery
import Synchronization

/// The engine's side of a migration: visibility reads and writes that follow the migration's
/// routing (`MigrationRouting`, read again every `refreshInterval`), namespace by namespace.
///
/// - `source`: reads from the source (as Temporal's SQL store answers them), each first page
///   shadowed to Periscope and compared (`counters`); writes to the source with Temporal's
///   statements (the capture brings them to Periscope).
/// - `periscopeReads`: reads from Periscope; writes still to the source.
/// - `periscopeWrites`: reads from and writes to Periscope, each write then written back to
///   the source (retried; one that still fails is counted and logged, and validation finds it).
///
/// With `dualWrite` (no capture: a source where logical decoding cannot be had), a write to
/// the source is also written to Periscope at once, as a copy ordered by its version, as
/// Temporal's own dual visibility manager does.
public final class MigratingVisibility: Sendable {
    public enum Write: Sendable {
        case started, upserted, closed
        /// Unconditional, as Temporal's SQL store deletes.
        case deleted
    }

    public enum Store: String, Sendable { case source, periscope }

    public struct Page: Sendable {
        public var executions: [Execution]
        public var nextPageToken: [UInt8]?
        /// Which store answered.
        public var from: Store
    }

    public struct Counters: Sendable, Equatable {
        public var shadowReads = 0
        public var shadowMismatches = 0
        public var writesToSource = 0
        public var writesToPeriscope = 0
        public var writeBacksRetried = 0
        public var writeBacksFailed = 0
    }

    let periscope: PeriscopeClient
    let conninfo: String
    let migration: String
    let refreshInterval: Duration
    let dualWrite: Bool
    let converter: SQLFilter.Converter
    private let cached = Mutex<(routing: MigrationRouting, state: MigrationState, at: ContinuousClock.Instant)?>(nil)
    private let counterState = Mutex(Counters())
    private let sourceSchema = Mutex<TemporalSourceSchema?>(nil)
    private let connections: SourceConnections

    public init(periscope: PeriscopeClient, source conninfo: String, migration: String, refreshInterval: Duration = .seconds(2),
                dualWrite: Bool = false, converter: SQLFilter.Converter = .unified, sourceConnectionsMax: Int = 8) {
        self.periscope = periscope
        self.conninfo = conninfo
        self.migration = migration
        self.refreshInterval = refreshInterval
        self.dualWrite = dualWrite
        self.converter = converter
        connections = SourceConnections(conninfo: conninfo, threads: max(1, sourceConnectionsMax))
    }

    public var counters: Counters { counterState.withLock { $0 } }

    /// The source's table (its attribute columns and types), read once.
    private func sourceTable() async throws -> TemporalSourceSchema {
        if let known = sourceSchema.withLock({ $0 }) { return known }
        let read = try await connections.run { try TemporalSourceSchema.inspect($0) }
        sourceSchema.withLock { $0 = read }
        return read
    }

    /// The stage of `namespace` and the migration's state, read again when older than the refresh interval.
    public func route(_ namespace: String) async throws -> (stage: MigrationRouting.Stage, sourceId: String) {
        var current = cached.withLock { $0 }
        if current == nil || ContinuousClock.now - current!.at >= refreshInterval {
            let store = MigrationStore(client: periscope)
            current = (try await store.routing(migration), try await store.existing(migration), .now)
            cached.withLock { $0 = current }
        }
        guard let (routing, state, _) = current, let sourceId = state.namespaces.first(where: { $0.value == namespace })?.key else {
            throw MigrationError.invalid("namespace \(namespace) is not part of migration \(migration)")
        }
        return (routing.stage(of: namespace), sourceId)
    }

    // MARK: Reads

    public func list(namespace: String, query: String = "", pageSize: Int = 100, pageToken: [UInt8]? = nil) async throws -> Page {
        let (stage, sourceId) = try await route(namespace)
        guard stage == .source else {
            let page = try await periscope.list(namespace: namespace, query: query, pageSize: pageSize, pageToken: pageToken)
            return Page(executions: page.executions, nextPageToken: page.nextPageToken, from: .periscope)
        }
        // Temporal's default page size for 0, at most 1,000 (the same bound as Periscope's).
        let size = pageSize <= 0 ? 1_000 : min(pageSize, 1_000)
        let page = try await sourcePage(namespace: namespace, sourceId: sourceId, query: query, pageSize: size, token: pageToken)
        if pageToken == nil {
            // The shadow read: Periscope's first page of the same size must hold the same executions, in order.
            let shadow = try? await periscope.list(namespace: namespace, query: query, pageSize: size)
            counterState.withLock {
                $0.shadowReads += 1
                if shadow?.executions.map(\.runID) != page.executions.map(\.runID) { $0.shadowMismatches += 1 }
            }
        }
        return page
    }

    public func count(namespace: String, query: String = "") async throws -> (count: Int64, from: Store) {
        let (stage, sourceId) = try await route(namespace)
        guard stage == .source else { return (try await periscope.count(namespace: namespace, query: query).count, .periscope) }
        let condition = try await sourceCondition(namespace: namespace, query: query, context: .count)
        let total = try await connections.run { connection in
            Int64(try connection.query("SELECT count(*) FROM executions_visibility WHERE namespace_id = $1 AND \(condition)", [sourceId])
                .scalar ?? "") ?? 0
        }
        return (total, .source)
    }

    /// The query as Temporal's SQL store would run it on the source.
    private func sourceCondition(namespace: String, query: String, context: QueryContext) async throws -> String {
        let plan = try Query.compile(query, schema: try await periscope.querySchema(namespace: namespace), context: context).plan
        guard plan.orderBy.isEmpty else {
            throw MigrationError.invalid("invalid query: operation is not supported: 'ORDER BY' clause (the source answers this "
                + "namespace's reads, and Temporal's SQL store does not take ORDER BY)")
        }
        let columns = try await sourceTable().attributeColumns
        do {
            return try SQLFilter(columns: columns, converter: converter).condition(plan.filter)
        } catch {
            throw MigrationError.invalid("the source cannot answer this query: \(error.reason)")
        }
    }

    /// Temporal's keyset page token: the last row's close time, start time and run id.
    struct SourceToken: Codable {
        var closeTime: String
        var startTime: String
        var runId: String
    }

    private func sourcePage(namespace: String, sourceId: String, query: String, pageSize: Int, token: [UInt8]?) async throws -> Page {
        let condition = try await sourceCondition(namespace: namespace, query: query, context: .list)
        var keyset = ""
        if let token {
            guard let after = try? JSONDecoder().decode(SourceToken.self, from: Data(token)) else {
                throw MigrationError.invalid("invalid page token: not a token of this namespace's source reads")
            }
            keyset = " AND " + SQLFilter.after(closeTime: after.closeTime, startTime: after.startTime, runId: after.runId)
        }
        let sql = "SELECT \(TemporalRow.columns.joined(separator: ", ")), coalesce(close_time, '9999-12-31 23:59:59')::text AS page_close, "
            + "start_time::text AS page_start FROM executions_visibility WHERE namespace_id = $1 AND \(condition)\(keyset) ORDER BY \(SQLFilter.order) "
            + "LIMIT \(pageSize)"
        let rows = try await connections.run { try $0.query(sql, [sourceId]).rows }
        let types = try await sourceTable().attributeTypes
        var executions: [Execution] = []
        for row in rows {
            let record = try TemporalRow(ordered: Array(row.prefix(TemporalRow.columns.count))).record(types: types)
            executions.append(RecordWire.wire(record))
        }
        var next: [UInt8]?
        if rows.count == pageSize, let last = rows.last, let record = executions.last {
            let count = TemporalRow.columns.count
            next = Array(try JSONEncoder().encode(SourceToken(closeTime: last[count] ?? "", startTime: last[count + 1] ?? "", runId: record.runID)))
        }
        return Page(executions: executions, nextPageToken: next, from: .source)
    }

    // MARK: Writes

    /// Temporal's four visibility writes, where the routing says. Times are kept to the
    /// microsecond, as Temporal's SQL store keeps them, so both stores hold the same record.
    public func write(_ kind: Write, namespace: String, _ record: VisibilityRecord) async throws {
        let (stage, sourceId) = try await route(namespace)
        var record = record
        record.key.namespaceId = sourceId
        record.startTime = record.startTime.truncated(toMultipleOf: 1_000)
        record.executionTime = record.executionTime.truncated(toMultipleOf: 1_000)
        record.closeTime = record.closeTime?.truncated(toMultipleOf: 1_000)
        if stage == .periscopeWrites || stage == .finished {
            try await writeToPeriscope(kind, namespace: namespace, record)
            if stage == .periscopeWrites { try await writeBack(kind, record) }
            return
        }
        let position = try await writeToSource(kind, record)
        // The copy mirrors what the source did: a start of an execution it holds, or an
        // upsert its `_version` guard turned away, changed nothing there, and is not copied.
        if dualWrite, let position {
            var write = Periscope_V1_ImportedWrite()
            // Ordered as a capture would order it: by where the write lies in the source's log.
            write.sourceOrder = Int64(position.value)
            if kind == .deleted {
                write.delete = .with { $0.workflowID = record.key.workflowId; $0.runID = record.key.runId }
            } else {
                write.upsert = RecordWire.wire(record)
            }
            let response = try await periscope.importWrites(namespace: namespace, [write])
            if let refused = response.outcomes.first(where: { $0.code != 0 }) {
                throw MigrationError.invalid("Periscope refused the dual-written copy of \(record.key): \(refused.message)")
            }
            counterState.withLock { $0.writesToPeriscope += 1 }
        }
    }

    /// Writes to the source with Temporal's statement. If it changed a row, returns the
    /// source's WAL insert position right after it, in the same transaction: past the
    /// statement's change and before its commit. A later write of the same row waits for this
    /// one's commit, so its position is higher: the order the dual-written copy carries.
    @discardableResult
    private func writeToSource(_ kind: Write, _ record: VisibilityRecord) async throws -> LSN? {
        let position = try await connections.run { connection -> LSN? in
            _ = try connection.execute("BEGIN")
            let changed = switch kind {
            case .started: try connection.query(TemporalDML.insert + " RETURNING 1", TemporalDML.parameters(record)).rows.count
            case .upserted, .closed: try connection.query(TemporalDML.upsert + " RETURNING 1", TemporalDML.parameters(record)).rows.count
            case .deleted: try connection.query(TemporalDML.delete + " RETURNING 1", [record.key.namespaceId, record.key.runId]).rows.count
            }
            let position = try connection.query("SELECT pg_current_wal_insert_lsn()::text").scalar.flatMap(LSN.init) ?? .zero
            _ = try connection.execute("COMMIT")
            return changed > 0 ? position : nil
        }
        counterState.withLock { $0.writesToSource += 1 }
        return position
    }

    private func writeToPeriscope(_ kind: Write, namespace: String, _ record: VisibilityRecord) async throws {
        let execution = RecordWire.wire(record)
        switch kind {
        case .started: _ = try await periscope.recordStarted(namespace: namespace, execution)
        case .upserted: _ = try await periscope.upsert(namespace: namespace, execution)
        case .closed: _ = try await periscope.recordClosed(namespace: namespace, execution)
        case .deleted: _ = try await periscope.delete(namespace: namespace, workflowID: record.key.workflowId, runID: record.key.runId,
                                                     version: record.version)
        }
        counterState.withLock { $0.writesToPeriscope += 1 }
    }

    /// After the write cutover: the write, acknowledged by Periscope, written back to the
    /// source, retried with backoff for about 6 s.
    private func writeBack(_ kind: Write, _ record: VisibilityRecord) async throws {
        var pause = Duration.milliseconds(100)
        for attempt in 1...6 {
            do {
                try await writeToSource(kind, record)
                return
            } catch {
                guard attempt < 6 else {
                    counterState.withLock { $0.writeBacksFailed += 1 }
                    throw MigrationError.invalid("written to Periscope but not back to the source (\(error)): run `migrate validate`, "
                        + "which names it, before any rollback")
                }
                counterState.withLock { $0.writeBacksRetried += 1 }
                try await Task.sleep(for: pause)
                pause *= 2
            }
        }
    }
}
