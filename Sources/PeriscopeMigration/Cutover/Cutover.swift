import Foundation
import PeriscopeClient
import PeriscopeModel
import PeriscopePostgres

/// Moving a migration's namespaces from the source to Periscope, reads first, then writes,
/// each only when the last validation is clean and recent and the capture is close behind;
/// and back (`rollback`) from either stage, losing no write.
public struct Cutover: Sendable {
    public struct Bounds: Sendable {
        /// The capture may be this far behind the source's WAL, in bytes and in seconds.
        public var lagBytesMax: Int64 = 64 << 20
        public var lagSecondsMax: Double = 5
        /// The last clean validation may be this old.
        public var validationAgeMax: Duration = .seconds(3_600)
        public init() {}
    }

    /// The capture's distance behind the source, as the source sees its slot.
    public struct CaptureLag: Sendable, Equatable, CustomStringConvertible {
        public var streaming: Bool
        public var bytesBehind: Int64
        public var seconds: Double

        public var description: String {
            "\(streaming ? "streaming" : "not streaming"), \(bytesBehind) bytes of WAL behind, " + String(format: "%.2f s", seconds)
        }
    }

    /// How long every node of the region is given to apply a namespace change.
    static let catalogSettle: Duration = .seconds(1)

    let conninfo: String
    let store: MigrationStore
    let state: MigrationState
    let bounds: Bounds

    public init(conninfo: String, store: MigrationStore, state: MigrationState, bounds: Bounds = Bounds()) {
        self.conninfo = conninfo
        self.store = store
        self.state = state
        self.bounds = bounds
    }

    public static func captureLag(conninfo: String, slot: String) throws -> CaptureLag {
        let rows = try PostgresConnection(conninfo).query("""
            SELECT s.active::text, pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint::text,
                   coalesce(extract(epoch FROM r.flush_lag), 0)::text
            FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid WHERE s.slot_name = $1
            """, [slot]).rows
        guard let row = rows.first else { throw MigrationError.wrongPhase("the source has no slot \(slot): the migration was aborted") }
        return CaptureLag(streaming: row[0] == "true", bytesBehind: Int64(row[1] ?? "") ?? .max, seconds: Double(row[2] ?? "") ?? .infinity)
    }

    /// Why `namespaces` may move now: a clean, recent validation of them and a capture close
    /// behind. Throws `wrongPhase` naming what is missing.
    func checkReady(_ namespaces: [String]) async throws -> String {
        guard let validation = try await store.document(ValidationRecord.self, migration: state.name, part: ValidationRecord.part) else {
            throw MigrationError.wrongPhase("migration \(state.name) has no validation: run `migrate validate` first")
        }
        let age = Duration.nanoseconds(max(0, Timestamp.wallClockNow.nanosecondsSinceEpoch - validation.finishedAt))
        guard validation.report.isClean else {
            throw MigrationError.wrongPhase("the last validation (\(validation.finished.rfc3339)) found \(validation.report.differencesCount) "
                + "differences and \(validation.report.unsettledCount) unsettled executions: resolve them and validate again")
        }
        guard age <= bounds.validationAgeMax else {
            throw MigrationError.wrongPhase("the last clean validation is \(Int(age.seconds)) s old (at most \(Int(bounds.validationAgeMax.seconds)) s): "
                + "validate again")
        }
        let routing = try await store.routing(state.name)
        guard validation.finishedAt > routing.rolledBackAt else {
            throw MigrationError.wrongPhase("the last validation is from before the last rollback: validate again")
        }
        let validated = Set(validation.report.namespaces.map(\.name))
        if let missing = namespaces.first(where: { !validated.contains($0) }) {
            throw MigrationError.wrongPhase("the last validation did not cover namespace \(missing)")
        }
        if state.isDualWrite {
            // No capture: the engine writes both stores, and validation is what proves them equal.
            return "validation clean at \(validation.finished.rfc3339), dual-write"
        }
        let lag = try await onPostgresThread { [conninfo, slot = state.slot] in try Self.captureLag(conninfo: conninfo, slot: slot) }
        guard lag.streaming else { throw MigrationError.wrongPhase("no capture is streaming from slot \(state.slot): run `migrate capture`") }
        guard lag.bytesBehind <= bounds.lagBytesMax, lag.seconds <= bounds.lagSecondsMax else {
            throw MigrationError.wrongPhase("the capture is too far behind (\(lag); at most \(bounds.lagBytesMax) bytes and "
                + String(format: "%.1f s", bounds.lagSecondsMax) + "): wait for it to catch up")
        }
        return "validation clean at \(validation.finished.rfc3339), capture \(lag)"
    }

    /// The namespaces asked, checked to belong to the migration (none asked: all of them).
    func chosen(_ namespaces: [String]) throws -> [String] {
        let all = Array(state.namespaces.values).sorted()
        for namespace in namespaces where !all.contains(namespace) {
            throw MigrationError.invalid("namespace \(namespace) is not part of migration \(state.name) (\(all.joined(separator: ", ")))")
        }
        return namespaces.isEmpty ? all : namespaces
    }

    /// Reads move to Periscope; writes stay with the source.
    public func cutReads(_ namespaces: [String] = []) async throws -> MigrationRouting {
        let targets = try chosen(namespaces)
        var routing = try await store.routing(state.name)
        for namespace in targets where routing.stage(of: namespace) != .source {
            throw MigrationError.wrongPhase("namespace \(namespace) is at \(routing.stage(of: namespace).rawValue), not source")
        }
        let ready = try await checkReady(targets)
        routing.set(.periscopeReads, for: targets, because: ready, at: .wallClockNow)
        try await store.save(&routing, migration: state.name)
        return routing
    }

    /// Writes move to Periscope: the import finishes above everything the source has written
    /// (the engine's writes through Periscope win from now on; what the capture still brings,
    /// a write the engine made to the source before it saw the switch, is stamped below them).
    public func cutWrites(_ namespaces: [String] = []) async throws -> MigrationRouting {
        let targets = try chosen(namespaces)
        var routing = try await store.routing(state.name)
        for namespace in targets where routing.stage(of: namespace) != .periscopeReads {
            throw MigrationError.wrongPhase("namespace \(namespace) is at \(routing.stage(of: namespace).rawValue): cut its reads over first")
        }
        let ready = try await checkReady(targets)
        // Finished above every position an import may carry. The capture applies before it
        // confirms, and a node that has not yet applied the finish still imports a change as
        // before: so twice, the second time above the source's WAL insert position read once
        // every node had time to apply the first (changes imported as before were committed
        // before it, so they lie below).
        func end() async throws -> LSN {
            try await onPostgresThread { [conninfo] in
                try PostgresConnection(conninfo).query("SELECT pg_current_wal_insert_lsn()::text").scalar.flatMap(LSN.init) ?? .zero
            }
        }
        let first = try await end()
        for namespace in targets { _ = try await store.client.setImporting(namespace: namespace, false, importedOrderMax: Int64(first.value)) }
        try await Task.sleep(for: Self.catalogSettle)
        let last = try await end()
        for namespace in targets { _ = try await store.client.setImporting(namespace: namespace, false, importedOrderMax: Int64(last.value)) }
        routing.set(.periscopeWrites, for: targets, because: ready + ", import finished above \(last)", at: .wallClockNow)
        try await store.save(&routing, migration: state.name)
        return routing
    }

    /// The end: every namespace of the migration writes to Periscope alone, and the source's
    /// slot and publication are dropped (its WAL is no longer kept). No rollback after this.
    public func finish() async throws -> MigrationRouting {
        let targets = try chosen([])
        var routing = try await store.routing(state.name)
        for namespace in targets where routing.stage(of: namespace) != .periscopeWrites {
            throw MigrationError.wrongPhase("namespace \(namespace) is at \(routing.stage(of: namespace).rawValue): cut its writes over first")
        }
        // The slot first: if a capture still streams from it, nothing changes.
        try await onPostgresThread { [conninfo, state] in try Self.dropSlot(conninfo: conninfo, state: state) }
        routing.set(.finished, for: targets, because: "migration finished", at: .wallClockNow)
        try await store.save(&routing, migration: state.name)
        return routing
    }

    /// Drops the migration's slot and publication, if they are there.
    public static func dropSlot(conninfo: String, state: MigrationState) throws {
        guard !state.isDualWrite else { return }
        let connection = try PostgresConnection(conninfo)
        if try connection.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [state.slot]).rows.count > 0 {
            _ = try connection.query("SELECT pg_drop_replication_slot($1)", [state.slot])
        }
        try connection.execute("DROP PUBLICATION IF EXISTS \(state.publication)")
    }

    /// Back to the source, from either stage. After the write cutover the source holds every
    /// write (each was written back to it), and the namespace imports again, ordered by the
    /// source's log, so that Periscope keeps following it.
    public func rollback(_ namespaces: [String] = []) async throws -> MigrationRouting {
        let targets = try chosen(namespaces)
        var routing = try await store.routing(state.name)
        if let over = targets.first(where: { routing.stage(of: $0) == .finished }) {
            throw MigrationError.wrongPhase("namespace \(over) finished its migration: there is no source to go back to")
        }
        // Every one not importing (a write cutover that stopped halfway included).
        for namespace in targets where !(try await store.client.describeNamespace(namespace).importing) {
            _ = try await store.client.setImporting(namespace: namespace, true)
        }
        let from = Set(targets.map { routing.stage(of: $0).rawValue }).sorted().joined(separator: ", ")
        routing.set(.source, for: targets, because: "rollback from \(from)", at: .wallClockNow)
        routing.rolledBackAt = Timestamp.wallClockNow.nanosecondsSinceEpoch
        try await store.save(&routing, migration: state.name)
        return routing
    }
}
