import PeriscopeModel
import PeriscopePostgres

/// The source's side of validation, in SQL: `ExecutionFingerprint`'s canonical text built from
/// Temporal's columns, its MD5, and the same per-bucket counts and wrapping sums Periscope's
/// `ChecksumExecutions` computes, so the rows never leave PostgreSQL to be compared.
public struct SourceChecksums: Sendable {
    /// Each search attribute field's type, by the name the row stores it under.
    public let types: [String: SearchAttributeType]

    public init(types: [String: SearchAttributeType]) { self.types = types }

    /// Settings the canonical text depends on, pinned for the session.
    public static let sessionSettings = "SET extra_float_digits = 1; SET TimeZone = 'UTC'; SET client_encoding = 'UTF8'; "
        + "SET standard_conforming_strings = on"

    /// A connection to the source with `sessionSettings` pinned: every query that builds or
    /// compares the canonical text, or quotes with `quoted`, runs on one of these.
    static func connect(_ conninfo: String) throws -> PostgresConnection {
        let connection = try PostgresConnection(conninfo)
        _ = try connection.execute(sessionSettings)
        return connection
    }

    /// `value` as a SQL string literal under `standard_conforming_strings` (pinned above).
    static func quoted(_ value: String) -> String { "'" + value.replacingOccurrences(of: "'", with: "''") + "'" }

    // MARK: The canonical text

    /// A SQL expression over a row of `executions_visibility`: `ExecutionFingerprint.canonicalText`.
    public var canonicalText: String {
        func micros(_ column: String) -> String { "(extract(epoch FROM \(column)) * 1000000)::bigint::text" }
        func optional(_ column: String) -> String { "coalesce(\(column)::text, '')" }
        let fields = [
            "rtrim(run_id)", "workflow_id", "_version::text", "status::text", micros("start_time"), micros("execution_time"),
            "coalesce(\(micros("close_time")), '')", "workflow_type_name", "task_queue", optional("history_length"),
            optional("history_size_bytes"), optional("execution_duration"), optional("state_transition_count"),
            optional("parent_workflow_id"), optional("parent_run_id"), optional("root_workflow_id"), optional("root_run_id"),
            "md5(coalesce(memo, ''::bytea))", attributesText,
        ]
        return "concat_ws(chr(31), \(fields.joined(separator: ", ")))"
    }

    /// The search attributes: `name=value` sorted by name in byte order, each value as the
    /// Swift side prints its type (`ExecutionFingerprint.text(of:)`).
    var attributesText: String {
        let value = "CASE \(typeCases) ELSE value #>> '{}' END"
        // A row may hold JSON null (or no object at all) there: no attributes, as the mapping reads it.
        return "coalesce((SELECT string_agg(key || '=' || \(value), chr(30) ORDER BY key COLLATE \"C\") "
            + "FROM jsonb_each(CASE WHEN jsonb_typeof(search_attributes) = 'object' THEN search_attributes END) "
            + "WHERE jsonb_typeof(value) <> 'null' AND value <> '[]'::jsonb), '')"
    }

    private var typeCases: String {
        let list = "CASE jsonb_typeof(value) WHEN 'array' THEN (SELECT string_agg(item, chr(29) ORDER BY place) "
            + "FROM jsonb_array_elements_text(value) WITH ORDINALITY AS items(item, place)) ELSE value #>> '{}' END"
        let byType: [(SearchAttributeType, String)] = [
            (.keywordList, list),
            (.int, "(value::numeric)::bigint::text"),
            (.double, "(value::float8)::text"),
            (.datetime, "(extract(epoch FROM (value #>> '{}')::timestamptz) * 1000000)::bigint::text"),
        ]
        var cases: [String] = []
        for (type, expression) in byType {
            let names = types.filter { $0.value == type }.keys.sorted()
            guard !names.isEmpty else { continue }
            cases.append("WHEN key IN (\(names.map(Self.quoted).joined(separator: ", "))) THEN \(expression)")
        }
        return cases.isEmpty ? "WHEN false THEN ''" : cases.joined(separator: " ")
    }

    /// The fingerprint as a signed BIGINT: the first 8 bytes of the text's MD5.
    var fingerprint: String { "('x' || left(md5(\(canonicalText)), 16))::bit(64)::bigint" }

    // MARK: Queries

    /// The range condition on a namespace's rows started in `[from, to)`, with its parameters.
    static let rows = "namespace_id = $1 AND start_time >= $2::timestamp AND start_time < $3::timestamp"

    static func parameters(_ namespaceId: String, _ from: Timestamp, _ to: Timestamp) -> [String?] {
        [namespaceId, TemporalRow.text(of: from), TemporalRow.text(of: to)]
    }

    /// Bucket number → (count, wrapping sum as UInt64) of a namespace's rows started in `[from, to)`.
    public func buckets(_ connection: PostgresConnection, namespaceId: String, from: Timestamp, to: Timestamp,
                        bucketSeconds: Int64) throws -> [Int64: (count: Int64, checksum: UInt64)] {
        let fromMicros = ExecutionFingerprint.microseconds(from)
        let bucket = "floor(((extract(epoch FROM start_time) * 1000000)::bigint - \(fromMicros)) / \(bucketSeconds * 1_000_000)::numeric)::bigint"
        let modulus = "18446744073709551616"
        let sql = "SELECT \(bucket) AS bucket, count(*), (((sum(\(fingerprint)) % \(modulus)) + \(modulus)) % \(modulus))::text "
            + "FROM executions_visibility WHERE \(Self.rows) GROUP BY 1"
        var buckets: [Int64: (count: Int64, checksum: UInt64)] = [:]
        for row in try connection.query(sql, Self.parameters(namespaceId, from, to)).rows {
            guard let number = row[0].flatMap({ Int64($0) }), let count = row[1].flatMap({ Int64($0) }),
                  let sum = row[2].flatMap({ UInt64($0) }) else {
                throw MigrationError.invalid("the source's checksum query returned a row it cannot read: \(row)")
            }
            buckets[number] = (count, sum)
        }
        return buckets
    }

    /// One source execution's fingerprint, for a drill-down.
    public struct Fingerprinted: Sendable, Equatable {
        public var workflowId: String
        public var runId: String
        public var fingerprint: UInt64
    }

    /// Run id → fingerprint of each of a namespace's rows started in `[from, to)`.
    public func executions(_ connection: PostgresConnection, namespaceId: String, from: Timestamp,
                           to: Timestamp) throws -> [String: Fingerprinted] {
        let sql = "SELECT rtrim(run_id), workflow_id, \(fingerprint)::text FROM executions_visibility "
            + "WHERE \(Self.rows)"
        var executions: [String: Fingerprinted] = [:]
        try Self.read(try connection.query(sql, Self.parameters(namespaceId, from, to)).rows, into: &executions)
        return executions
    }

    /// Run id → fingerprint of a namespace's rows with those run ids (the ones that exist).
    public func executions(_ connection: PostgresConnection, namespaceId: String, runIds: [String]) throws -> [String: Fingerprinted] {
        var executions: [String: Fingerprinted] = [:]
        for batch in stride(from: 0, to: runIds.count, by: 1_000).map({ runIds[$0..<min($0 + 1_000, runIds.count)] }) {
            let sql = "SELECT rtrim(run_id), workflow_id, \(fingerprint)::text FROM executions_visibility "
                + "WHERE namespace_id = $1 AND run_id = ANY(string_to_array($2, chr(31))::bpchar[])"
            try Self.read(try connection.query(sql, [namespaceId, batch.joined(separator: "\u{1F}")]).rows, into: &executions)
        }
        return executions
    }

    /// Rows of (run id, workflow id, signed fingerprint).
    private static func read(_ rows: [[String?]], into executions: inout [String: Fingerprinted]) throws {
        for row in rows {
            guard let runId = row[0], let workflowId = row[1], let signed = row[2].flatMap({ Int64($0) }) else {
                throw MigrationError.invalid("the source's fingerprint query returned a row it cannot read: \(row)")
            }
            executions[runId] = Fingerprinted(workflowId: workflowId, runId: runId, fingerprint: UInt64(bitPattern: signed))
        }
    }

    /// The earliest and the latest start time of a namespace's rows (nil: it has none).
    public static func startTimeRange(_ connection: PostgresConnection, namespaceId: String) throws -> (Timestamp, Timestamp)? {
        let row = try connection.query("SELECT min(start_time)::text, max(start_time)::text FROM executions_visibility "
            + "WHERE namespace_id = $1", [namespaceId]).rows.first
        guard let low = row?[0].flatMap(TemporalRow.timestamp), let high = row?[1].flatMap(TemporalRow.timestamp) else { return nil }
        return (low, high)
    }
}
