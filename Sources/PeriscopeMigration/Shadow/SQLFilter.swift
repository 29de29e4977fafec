import PeriscopeModel
import PeriscopeQuery

/// A compiled List Filter as the `WHERE` condition Temporal's SQL visibility store runs on
/// PostgreSQL (its unified converter, `sqlplugin/postgresql/query_converter.go`): system
/// attributes by their columns, search attributes by their generated columns, Keyword `=` exact,
/// STARTS_WITH as `LIKE ... ESCAPE '!'`, KeywordList `=` as `@> jsonb_build_array(...)`, Text
/// `=` as a `tsquery` of the value's space-separated tokens joined by `|`, ExecutionStatus by
/// its number, datetimes as UTC `timestamp` literals with microseconds, and SQL's three-valued
/// logic throughout.
public struct SQLFilter: Sendable {
    /// Why a query has no SQL form in the source (an attribute without a column).
    public struct NotComparable: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// Which of Temporal's two SQL converters (`system.visibilityEnableUnifiedQueryConverter`).
    public enum Converter: String, Sendable, CaseIterable {
        /// The generic converter: `close_time` as it is. Periscope's semantics.
        case unified
        /// The default until Temporal turns the unified one on: every use of `CloseTime` but
        /// `IS [NOT] NULL` reads `coalesce(close_time, '9999-12-31 23:59:59')`, so
        /// `CloseTime > X` matches running executions.
        case legacy
    }

    /// The source's generated columns (lower case).
    public let columns: Set<String>
    public let converter: Converter

    public init(columns: Set<String>, converter: Converter = .unified) {
        self.columns = columns
        self.converter = converter
    }

    static let systemColumns: [String: String] = [
        "WorkflowId": "workflow_id", "RunId": "run_id", "WorkflowType": "workflow_type_name", "StartTime": "start_time",
        "ExecutionTime": "execution_time", "CloseTime": "close_time", "ExecutionStatus": "status", "TaskQueue": "task_queue",
        "HistoryLength": "history_length", "ExecutionDuration": "execution_duration", "StateTransitionCount": "state_transition_count",
        "HistorySizeBytes": "history_size_bytes", "ParentWorkflowId": "parent_workflow_id", "ParentRunId": "parent_run_id",
        "RootWorkflowId": "root_workflow_id", "RootRunId": "root_run_id",
    ]

    /// The SQL condition of `predicate`.
    public func condition(_ predicate: Predicate) throws(NotComparable) -> String {
        switch predicate {
        case .and(let terms): return "(" + (try terms.map { (term) throws(NotComparable) in try condition(term) }).joined(separator: " AND ") + ")"
        case .or(let terms): return "(" + (try terms.map { (term) throws(NotComparable) in try condition(term) }).joined(separator: " OR ") + ")"
        case .not(let inner): return "(NOT \(try condition(inner)))"
        case .constant(let flag): return flag ? "TRUE" : "FALSE"
        case .compare(let field, let op, let value):
            let column = try operand(field)
            switch field.type {
            case .keywordList:
                let contains = "\(column) @> jsonb_build_array(\(try literal(value, of: field)))"
                return op == .equal ? contains : "(NOT \(contains))"
            case .text:
                let contains = "\(column) @@ \(try tokens(value))::tsquery"
                return op == .equal ? contains : "(NOT \(contains))"
            default:
                return "\(column) \(op == .notEqual ? "<>" : op.rawValue) \(try literal(value, of: field))"
            }
        case .oneOf(let field, let values, let negated):
            let column = try operand(field)
            let anyOf: String
            if field.type == .keywordList {
                anyOf = "(" + (try values.map { (value) throws(NotComparable) in "\(column) @> jsonb_build_array(\(try literal(value, of: field)))" })
                    .joined(separator: " OR ") + ")"
            } else {
                anyOf = "\(column) IN (" + (try values.map { (value) throws(NotComparable) in try literal(value, of: field) }).joined(separator: ", ") + ")"
            }
            return negated ? "(NOT \(anyOf))" : anyOf
        case .between(let field, let low, let high, let negated):
            return "\(try operand(field)) \(negated ? "NOT BETWEEN" : "BETWEEN") \(try literal(low, of: field)) AND \(try literal(high, of: field))"
        case .range(let field, let lower, let upper):
            let column = try operand(field)
            var parts: [String] = []
            if let lower { parts.append("\(column) \(lower.inclusive ? ">=" : ">") \(try literal(lower.value, of: field))") }
            if let upper { parts.append("\(column) \(upper.inclusive ? "<=" : "<") \(try literal(upper.value, of: field))") }
            return parts.isEmpty ? "TRUE" : "(" + parts.joined(separator: " AND ") + ")"
        case .startsWith(let field, let prefix, let negated):
            let escaped = prefix.replacingOccurrences(of: "!", with: "!!").replacingOccurrences(of: "%", with: "!%")
                .replacingOccurrences(of: "_", with: "!_")
            return "\(try operand(field)) \(negated ? "NOT LIKE" : "LIKE") \(SourceChecksums.quoted(escaped + "%")) ESCAPE '!'"
        case .isNull(let field, let negated):
            return "\(try column(field)) \(negated ? "IS NOT NULL" : "IS NULL")"
        }
    }

    /// What a comparison of `field` reads: its column, or (legacy converter) `CloseTime` coalesced.
    func operand(_ field: QueryField) throws(NotComparable) -> String {
        let column = try column(field)
        guard converter == .legacy, field.kind == .system, field.name == "CloseTime" else { return column }
        return "coalesce(close_time, '9999-12-31 23:59:59')"
    }

    /// The column holding `field` in the source.
    func column(_ field: QueryField) throws(NotComparable) -> String {
        if field.kind == .system, let column = Self.systemColumns[field.name] { return column }
        let folded = field.name.lowercased()
        guard columns.contains(folded) else {
            throw NotComparable(reason: "the source's table has no column for \(field.name)")
        }
        return folded
    }

    func literal(_ value: QueryValue, of field: QueryField) throws(NotComparable) -> String {
        switch value {
        case .string(let string): return SourceChecksums.quoted(string)
        case .int(let number): return String(number)
        case .double(let number): return ExecutionFingerprint.postgresText(of: number)
        case .bool(let flag): return flag ? "TRUE" : "FALSE"
        case .status(let status): return String(status.rawValue)
        case .datetime(let time):
            // Temporal formats `2006-01-02 15:04:05.999999` in UTC: microseconds, truncated (as `text(of:)` prints).
            return SourceChecksums.quoted(TemporalRow.text(of: time)) + "::timestamp"
        }
    }

    /// Temporal's `tsquery` of a Text value: its space-separated tokens, any of them.
    func tokens(_ value: QueryValue) throws(NotComparable) -> String {
        guard case .string(let text) = value else { throw NotComparable(reason: "a Text attribute compared with \(value)") }
        let tokens = text.split(separator: " ").map(String.init)
        guard !tokens.isEmpty else { throw NotComparable(reason: "no tokens in '\(text)'") }
        return SourceChecksums.quoted(tokens.joined(separator: " | "))
    }

    // MARK: Temporal's default order and its pages

    /// `ORDER BY` of every list in Temporal's SQL store.
    public static let order = "coalesce(close_time, '9999-12-31 23:59:59') DESC, start_time DESC, run_id"

    /// The condition of the page after the row with these values (Temporal's keyset token).
    public static func after(closeTime: String, startTime: String, runId: String) -> String {
        let close = "coalesce(close_time, '9999-12-31 23:59:59')"
        let (c, s, r) = (SourceChecksums.quoted(closeTime), SourceChecksums.quoted(startTime), SourceChecksums.quoted(runId))
        return "((\(close) = \(c) AND start_time = \(s) AND run_id > \(r)) OR (\(close) = \(c) AND start_time < \(s)) OR \(close) < \(c))"
    }
}
