import Foundation
import PeriscopeModel

/// One row of Temporal's `executions_visibility`, as PostgreSQL sends it in text format
/// (from a COPY or a pgoutput change), mapped to Periscope's record: every system column,
/// the search attributes typed by `types`, the memo's bytes and `_version` as the version.
public struct TemporalRow: Sendable {
    /// The columns the migration reads, in the order its COPY selects them. Generated columns
    /// are left out: they are functions of `search_attributes`.
    public static let columns = [
        "namespace_id", "run_id", "_version", "start_time", "execution_time", "workflow_id", "workflow_type_name", "status",
        "close_time", "history_length", "history_size_bytes", "execution_duration", "state_transition_count", "memo", "encoding",
        "task_queue", "search_attributes", "parent_workflow_id", "parent_run_id", "root_workflow_id", "root_run_id",
    ]

    /// Column name → value in text format (nil: NULL).
    public typealias Values = [String: String?]

    public var values: Values

    public init(values: Values) { self.values = values }

    /// A row from values in `columns` order.
    public init(ordered: [String?]) {
        precondition(ordered.count == Self.columns.count, "\(ordered.count) values for \(Self.columns.count) columns")
        values = Dictionary(uniqueKeysWithValues: zip(Self.columns, ordered))
    }

    /// `(namespace_id, run_id)`, the table's key, without CHAR(64)'s padding.
    public var key: (namespaceId: String, runId: String) {
        (Self.unpadded(values["namespace_id"] ?? nil), Self.unpadded(values["run_id"] ?? nil))
    }

    /// The record this row holds; `types` gives each search attribute's type by the field
    /// name the row stores it under. Throws a `RowError` naming the column that is wrong.
    public func record(types: [String: SearchAttributeType]) throws(RowError) -> VisibilityRecord {
        let (namespaceId, runId) = key
        guard !namespaceId.isEmpty, !runId.isEmpty else { throw RowError(column: "namespace_id/run_id", "the key is empty") }
        let workflowId = try required("workflow_id")
        let statusNumber = try integer("status")
        guard let raw = Int32(exactly: statusNumber), let status = ExecutionStatus(rawValue: raw), status != .unspecified else {
            throw RowError(column: "status", "\(statusNumber) is not a WorkflowExecutionStatus (1-8)")
        }
        let encoding = try required("encoding")
        let memo = try bytea("memo")
        guard memo.isEmpty || encoding == "Proto3" else { throw RowError(column: "encoding", "memo encoding '\(encoding)' is not Proto3") }
        var record = VisibilityRecord(
            key: ExecutionKey(namespaceId: namespaceId, workflowId: workflowId, runId: runId),
            version: try integer("_version"),
            workflowType: try required("workflow_type_name"),
            taskQueue: try required("task_queue"),
            status: status,
            startTime: try timestamp("start_time"),
            executionTime: try timestamp("execution_time"),
            closeTime: try optional("close_time").map { _ throws(RowError) in try timestamp("close_time") },
            executionDuration: try optionalInteger("execution_duration"),
            historyLength: try optionalInteger("history_length"),
            historySizeBytes: try optionalInteger("history_size_bytes"),
            stateTransitionCount: try optionalInteger("state_transition_count"),
            parentWorkflowId: try optional("parent_workflow_id"),
            parentRunId: try optional("parent_run_id"),
            rootWorkflowId: try optional("root_workflow_id") ?? "",
            rootRunId: try optional("root_run_id") ?? "",
            memo: memo)
        record.searchAttributes = try SearchAttributesJSON.decode(try optional("search_attributes"), types: types)
        return record
    }

    // MARK: Columns

    private func optional(_ column: String) throws(RowError) -> String? {
        guard let value = values[column] else { throw RowError(column: column, "the row has no such column") }
        return value
    }

    private func required(_ column: String) throws(RowError) -> String {
        guard let value = try optional(column) else { throw RowError(column: column, "NULL in a NOT NULL column") }
        return value
    }

    private func integer(_ column: String) throws(RowError) -> Int64 {
        let text = try required(column)
        guard let value = Int64(text) else { throw RowError(column: column, "'\(text)' is not an integer") }
        return value
    }

    private func optionalInteger(_ column: String) throws(RowError) -> Int64? {
        guard let text = try optional(column) else { return nil }
        guard let value = Int64(text) else { throw RowError(column: column, "'\(text)' is not an integer") }
        return value
    }

    private func timestamp(_ column: String) throws(RowError) -> Timestamp {
        let text = try required(column)
        guard let time = Self.timestamp(text) else { throw RowError(column: column, "'\(text)' is not a timestamp") }
        return time
    }

    /// BYTEA in text format: `\x` and hex digits (PostgreSQL's default `bytea_output`).
    private func bytea(_ column: String) throws(RowError) -> [UInt8] {
        guard let text = try optional(column) else { return [] }
        guard let bytes = Self.hexBytes(text) else { throw RowError(column: column, "not BYTEA in hex format") }
        return bytes
    }

    // MARK: Text formats

    static func unpadded(_ value: String?) -> String {
        guard var value else { return "" }
        while value.last == " " { value.removeLast() }
        return value
    }

    /// A `timestamp without time zone` as PostgreSQL prints it (`2024-05-01 10:11:12.345678`,
    /// UTC in Temporal's table).
    public static func timestamp(_ text: String) -> Timestamp? {
        guard text.count >= 19 else { return nil }
        var iso = text
        if let space = iso.firstIndex(of: " ") { iso.replaceSubrange(space...space, with: "T") }
        return try? Timestamp(rfc3339: iso + "Z")
    }

    /// `time` as PostgreSQL's `timestamp` text, microseconds (its precision) included.
    public static func text(of time: Timestamp) -> String {
        let rfc = time.rfc3339  // 2024-05-01T10:11:12.345678901Z or without fraction
        var text = String(rfc.dropLast()).replacingOccurrences(of: "T", with: " ")
        if let dot = text.firstIndex(of: ".") {
            let fraction = text[text.index(after: dot)...].prefix(6)
            text = String(text[..<dot]) + "." + fraction.padding(toLength: 6, withPad: "0", startingAt: 0)
        }
        return text
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        guard text.hasPrefix("\\x") else { return nil }
        let digits = Array(text.utf8.dropFirst(2))
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = Self.hexValue(digits[index]), let low = Self.hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    /// A hexadecimal digit's value.
    static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// A source row that does not map to a record: which column, and why.
public struct RowError: Error, Equatable, CustomStringConvertible {
    public var column: String
    public var message: String

    public init(column: String, _ message: String) {
        self.column = column
        self.message = message
    }

    public var description: String { "column \(column): \(message)" }
}
