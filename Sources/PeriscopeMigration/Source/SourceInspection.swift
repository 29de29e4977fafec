import PeriscopeModel
import PeriscopePostgres

/// What `periscope migrate inspect` finds on a source, and what would stop a migration.
public struct SourceInspection: Sendable {
    public var text: String
    /// Why the source cannot be migrated as it is (nil: nothing found).
    public var problem: MigrationError?
    public var schema: TemporalSourceSchema
    /// Rows per namespace id.
    public var namespaceRows: [String: Int]

    /// Reads the source through a new connection; changes nothing. Throws if it cannot be
    /// reached, or is not Temporal's table.
    public static func inspect(_ conninfo: String) throws -> SourceInspection { try inspect(try PostgresConnection(conninfo)) }

    /// The same through `connection`.
    public static func inspect(_ connection: PostgresConnection) throws -> SourceInspection {
        let schema = try TemporalSourceSchema.inspect(connection)
        let walLevel = try connection.query("SHOW wal_level").scalar ?? "?"
        let role = try connection.query("SELECT rolreplication, rolsuper, current_user FROM pg_roles WHERE rolname = current_user")
        let mayReplicate = role.rows.first.map { $0[0] == "t" || $0[1] == "t" } ?? false
        let user = role.rows.first?[2] ?? "?"
        let namespaces = try connection.query("SELECT rtrim(namespace_id), count(*) FROM executions_visibility GROUP BY 1 ORDER BY 1")
        let slots = try connection.query("""
            SELECT slot_name, plugin, active, coalesce(confirmed_flush_lsn::text, '') FROM pg_replication_slots
            WHERE slot_name LIKE 'periscope%' ORDER BY slot_name
            """)
        var lines = ["source: \(connection.endpoint), PostgreSQL \(connection.serverVersion / 10_000).\(connection.serverVersion % 10_000)",
                     "table: executions_visibility (Temporal's v12 layout)"]
        lines.append("namespaces: " + (namespaces.rows.isEmpty ? "none (the table is empty)" : ""))
        for row in namespaces.rows { lines.append("  \(row[0] ?? "?")  \(row[1] ?? "0") rows") }
        let custom = schema.customAttributes.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value.name))" }
        lines.append("custom search attribute fields: \(custom.isEmpty ? "none" : custom.joined(separator: ", "))")
        lines.append("wal_level: \(walLevel)" + (walLevel == "logical" ? "" : " (capture needs logical)"))
        lines.append("role \(user) may replicate: \(mayReplicate ? "yes" : "no (capture needs REPLICATION)")")
        lines.append("replication slots of Periscope migrations: " + (slots.rows.isEmpty ? "none" : ""))
        for row in slots.rows {
            lines.append("  \(row[0] ?? "?") (\(row[1] ?? "?"), \(row[2] == "t" ? "streaming now" : "idle"), confirmed through \(row[3] ?? ""))")
        }
        var problem: MigrationError?
        if walLevel != "logical" {
            problem = .invalid("wal_level is \(walLevel) on \(connection.endpoint); change capture needs wal_level = logical "
                + "(ALTER SYSTEM SET wal_level = logical, then restart the server), or use dual-write")
        } else if !mayReplicate {
            problem = .permission("role \(user) has neither REPLICATION nor SUPERUSER on \(connection.endpoint); "
                + "grant it (ALTER ROLE \(user) REPLICATION) or use dual-write")
        }
        var rows: [String: Int] = [:]
        for row in namespaces.rows { if let id = row[0] { rows[id] = Int(row[1] ?? "0") ?? 0 } }
        return SourceInspection(text: lines.joined(separator: "\n"), problem: problem, schema: schema, namespaceRows: rows)
    }
}
