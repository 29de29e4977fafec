import PeriscopeModel

/// The statements Temporal's PostgreSQL visibility store runs (`sqlplugin/postgresql/
/// visibility.go`), with a record's values bound to them: the source writer uses them to
/// write as Temporal does, and the reverse sync to write Periscope's changes back.
public enum TemporalDML {
    /// The columns written, in order (`VisibilityRow`'s, `_version` last).
    static let writtenColumns = [
        "namespace_id", "run_id", "start_time", "execution_time", "workflow_id", "workflow_type_name", "status", "close_time",
        "history_length", "history_size_bytes", "execution_duration", "state_transition_count", "memo", "encoding", "task_queue",
        "search_attributes", "parent_workflow_id", "parent_run_id", "root_workflow_id", "root_run_id", "_version",
    ]

    private static let insertPrefix = "INSERT INTO executions_visibility (" + writtenColumns.joined(separator: ", ") + ") VALUES ("
        + (1...writtenColumns.count).map { "$\($0)" }.joined(separator: ", ") + ")"

    /// RecordWorkflowExecutionStarted: inserted unless the execution is there already.
    public static let insert = insertPrefix + " ON CONFLICT (namespace_id, run_id) DO NOTHING"

    /// RecordWorkflowExecutionClosed and UpsertWorkflowExecution: every column replaced, but
    /// only by a newer `_version`.
    public static let upsert = insertPrefix + " ON CONFLICT (namespace_id, run_id) DO UPDATE SET "
        + writtenColumns.filter { $0 != "namespace_id" && $0 != "run_id" }.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        + " WHERE executions_visibility._version < EXCLUDED._version"

    /// DeleteWorkflowExecution: unconditional, whatever the version.
    public static let delete = "DELETE FROM executions_visibility WHERE namespace_id = $1 AND run_id = $2"

    /// `record` as the parameters of `insert` and `upsert`.
    public static func parameters(_ record: VisibilityRecord) -> [String?] {
        [
            record.key.namespaceId, record.key.runId, TemporalRow.text(of: record.startTime), TemporalRow.text(of: record.executionTime),
            record.key.workflowId, record.workflowType, String(record.status.rawValue), record.closeTime.map(TemporalRow.text(of:)),
            record.historyLength.map(String.init), record.historySizeBytes.map(String.init), record.executionDuration.map(String.init),
            record.stateTransitionCount.map(String.init), record.memo.isEmpty ? nil : hex(record.memo), "Proto3", record.taskQueue,
            record.searchAttributes.isEmpty ? nil : SearchAttributesJSON.encode(record.searchAttributes), record.parentWorkflowId,
            record.parentRunId, record.rootWorkflowId, record.rootRunId, String(record.version),
        ]
    }

    /// BYTEA in hex text format.
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = Array("\\x".utf8)
        text.reserveCapacity(2 + bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
