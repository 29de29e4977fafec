import Foundation
import PeriscopeAPI
import PeriscopeClient
import PeriscopeModel
import PeriscopePostgres

/// `periscope migrate start`: checks everything first and changes nothing if a check fails;
/// then makes the Periscope namespaces (with the source's namespace ids and search attribute
/// fields), the publication, and the replication slot with its exported snapshot.
public enum MigrationSetup {
    public struct Request: Sendable {
        public var name: String
        public var conninfo: String
        /// Periscope namespace name → source namespace id.
        public var namespaces: [String: String]
        public var chunkRows: Int
        /// No slot: the engine writes both stores (`MigratingVisibility(dualWrite: true)`).
        /// Neither `wal_level = logical` nor a role that may replicate is needed.
        public var dualWrite: Bool

        public init(name: String, conninfo: String, namespaces: [String: String], chunkRows: Int, dualWrite: Bool = false) {
            self.name = name
            self.conninfo = conninfo
            self.namespaces = namespaces
            self.chunkRows = chunkRows
            self.dualWrite = dualWrite
        }

        /// A new state of this migration, saved after `earlier` (a start that died) if there is one.
        func state(slot: String, schema: TemporalSourceSchema, startLSN: LSN, after earlier: MigrationState?) -> MigrationState {
            var state = MigrationState(name: name, source: PostgresConnection.withoutPassword(conninfo), slot: slot, publication: slot,
                                       namespaces: Dictionary(uniqueKeysWithValues: namespaces.map { ($0.value, $0.key) }),
                                       attributeTypes: schema.attributeTypes, startLSN: startLSN, snapshot: nil)
            state.revision = earlier?.revision ?? 0
            return state
        }
    }

    /// What `start` made: the state (saved) and the replication connection that holds the
    /// exported snapshot open (close it once the first backfill is done).
    public struct Started: @unchecked Sendable {
        // @unchecked: the connection is used by its owner only, from one thread at a time.
        public var state: MigrationState
        /// Nil for a dual-write migration (no exported snapshot: the backfill reads its own).
        public var snapshotHolder: PostgresConnection?
    }

    public static func slotName(_ migration: String) -> String { "periscope_\(migration)" }

    public static func start(_ request: Request, store: MigrationStore) async throws -> Started {
        try MigrationState.checkName(request.name)
        guard !request.namespaces.isEmpty else { throw MigrationError.invalid("name at least one namespace to migrate (--namespace NAME=SOURCE_ID)") }
        try await store.prepare()
        let earlier = try await store.load(request.name)
        if let earlier, !earlier.diedStarting {
            throw MigrationError.wrongPhase("migration \(request.name) exists already: resume it (migrate backfill, migrate status) or choose another name")
        }
        let slot = request.dualWrite ? "" : slotName(request.name)
        // Every check against the source, before anything is made.
        let checked = try await onPostgresThread { () -> (TemporalSourceSchema, Set<String>) in
            let connection = try PostgresConnection(request.conninfo)
            let inspection = try SourceInspection.inspect(connection)
            // Only change capture needs logical decoding and a role that may replicate.
            if let problem = inspection.problem, !request.dualWrite { throw problem }
            // A start that died made them: they are dropped below, not a conflict.
            if request.dualWrite || earlier != nil { return (inspection.schema, Set(inspection.namespaceRows.keys)) }
            if try connection.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [slot]).rows.count > 0 {
                throw MigrationError.slotExists("replication slot \(slot) exists already on \(connection.endpoint) (an earlier migration of that name?): "
                    + "drop it (SELECT pg_drop_replication_slot('\(slot)')) or choose another name")
            }
            if try connection.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [slot]).rows.count > 0 {
                throw MigrationError.slotExists("publication \(slot) exists already on \(connection.endpoint): drop it (DROP PUBLICATION \(slot)) "
                    + "or choose another name")
            }
            return (inspection.schema, Set(inspection.namespaceRows.keys))
        }
        let (schema, present) = checked
        let unknown = request.namespaces.values.filter { !present.contains($0) }.sorted()
        if !unknown.isEmpty {
            FileHandle.standardError.write(Data("note: the source holds no rows of namespace id(s) \(unknown.joined(separator: ", ")) yet\n".utf8))
        }
        if let earlier {
            // A start that died before it planned its chunks: what it made in the source goes,
            // and this one starts over under the same name.
            try await onPostgresThread { try Cutover.dropSlot(conninfo: request.conninfo, state: earlier) }
        }
        try await prepareNamespaces(request.namespaces, customAttributes: schema.customAttributes, client: store.client)
        if request.dualWrite { return try await startDualWrite(request, schema: schema, store: store, after: earlier) }

        // Recorded before the slot is made: a start that dies from here on leaves a state that
        // names its slot, so `abort`, or `start` again, finds the slot and drops it.
        var state = request.state(slot: slot, schema: schema, startLSN: .zero, after: earlier)
        try await store.save(&state)

        // The publication, then the slot: a slot that cannot be made takes the publication with it.
        let made = try await onPostgresThread { () -> (PostgresConnection, LSN, String) in
            let connection = try PostgresConnection(request.conninfo)
            try connection.execute("CREATE PUBLICATION \(slot) FOR TABLE executions_visibility")
            do {
                let replication = try PostgresConnection(request.conninfo, replication: true)
                let created = try replication.execute("CREATE_REPLICATION_SLOT \(slot) LOGICAL pgoutput EXPORT_SNAPSHOT")
                guard let row = created.rows.first, let point = created.column("consistent_point").flatMap({ row[$0] }).flatMap(LSN.init),
                      let snapshot = created.column("snapshot_name").flatMap({ row[$0] }) else {
                    throw MigrationError.invalid("CREATE_REPLICATION_SLOT answered without a consistent point and snapshot")
                }
                return (replication, point, snapshot)
            } catch {
                _ = try? connection.execute("DROP PUBLICATION IF EXISTS \(slot)")
                if let failure = error as? PostgresError, failure.isPermissionDenied {
                    throw MigrationError.permission("creating replication slot \(slot): \(failure.message)")
                }
                throw error
            }
        }
        let (holder, point, snapshot) = made
        (state.startLSN, state.confirmedLSN, state.snapshot) = (point, point, snapshot)
        try await plan(&state, request)
        state.phase = .backfilling
        try await store.save(&state)
        return Started(state: state, snapshotHolder: holder)
    }

    /// A dual-write migration: its state, with no slot, and its chunks planned; the backfill
    /// waits (`migrate backfill`) until the engine writes both stores, so that every change
    /// after the backfill's snapshot reaches Periscope through the engine.
    static func startDualWrite(_ request: Request, schema: TemporalSourceSchema, store: MigrationStore,
                               after earlier: MigrationState?) async throws -> Started {
        let position = try await onPostgresThread { try LSN.current(on: PostgresConnection(request.conninfo)) }
        var state = request.state(slot: "", schema: schema, startLSN: position, after: earlier)
        try await plan(&state, request)
        try await store.save(&state)
        return Started(state: state, snapshotHolder: nil)
    }

    /// The source's rows of the migration's namespaces, cut into chunks.
    private static func plan(_ state: inout MigrationState, _ request: Request) async throws {
        let planned = try await onPostgresThread {
            try Backfill.plan(try PostgresConnection(request.conninfo), namespaceIds: Array(request.namespaces.values), chunkRows: request.chunkRows)
        }
        (state.chunks, state.rowsPlanned) = (planned.chunks, planned.rows)
    }

    /// The namespace, or nil if it does not exist.
    static func described(_ name: String, client: PeriscopeClient) async throws -> Namespace? {
        do {
            return try await client.describeNamespace(name)
        } catch {
            if error.code == .notFound { return nil }
            throw error
        }
    }

    /// Creates each Periscope namespace with its source id (or checks the one there has it),
    /// and registers the source's custom search attribute fields it lacks.
    static func prepareNamespaces(_ namespaces: [String: String], customAttributes: [String: SearchAttributeType], client: PeriscopeClient) async throws {
        for (name, sourceId) in namespaces.sorted(by: { $0.key < $1.key }) {
            var existing = try await described(name, client: client)
            if existing == nil { existing = try await client.createNamespace(name, id: sourceId) }
            guard let existing else { continue }
            guard existing.id == sourceId else {
                throw MigrationError.invalid("Periscope namespace \(name) has id \(existing.id), not the source's \(sourceId): "
                    + "migrate into a new namespace, or one made with --id \(sourceId)")
            }
            var missing: [String: IndexedValueType] = [:]
            let registered = try await client.searchAttributes(namespace: name)
            for (field, type) in customAttributes where registered.custom[field] == nil {
                missing[field] = IndexedValueType(rawValue: type.rawValue) ?? .unspecified
            }
            if !missing.isEmpty { _ = try await client.addSearchAttributes(namespace: name, missing) }
            if !existing.importing { _ = try await client.setImporting(namespace: name, true) }
        }
    }
}
