import PeriscopeModel
import Testing
@testable import PeriscopeMigration

/// Rows of Temporal's table, in PostgreSQL's text format, mapped to records and back.
@Suite struct TemporalRowTests {
    static let schema = try! TemporalSourceSchema(generatedColumns: [
        "keyword01": "character varying", "int01": "bigint", "bool01": "boolean", "double01": "numeric",
        "datetime01": "timestamp without time zone", "keywordlist01": "jsonb", "text01": "tsvector",
        "temporalchangeversion": "jsonb", "binarychecksums": "jsonb",
    ])

    static func row(_ overrides: [String: String?] = [:]) -> TemporalRow {
        var values: [String: String?] = [
            "namespace_id": "ns-1" + String(repeating: " ", count: 60), "run_id": "run-1" + String(repeating: " ", count: 59),
            "_version": "42", "start_time": "2026-05-01 10:11:12.345678", "execution_time": "2026-05-01 10:11:12.345678",
            "workflow_id": "order-7", "workflow_type_name": "OrderWorkflow", "status": "2", "close_time": "2026-05-01 10:20:00",
            "history_length": "12", "history_size_bytes": "3400", "execution_duration": "527654322000", "state_transition_count": "9",
            "memo": "\\x0a0b", "encoding": "Proto3", "task_queue": "q1",
            "search_attributes": #"{"Keyword01": "c-9", "Int01": 9007199254740993, "Bool01": true, "Double01": 2.5, "Datetime01": "2026-05-01T10:11:12.5Z", "KeywordList01": ["a", "b"], "Text01": "some notes", "TemporalChangeVersion": ["v2"]}"#,
            "parent_workflow_id": nil, "parent_run_id": nil, "root_workflow_id": "order-7", "root_run_id": "run-1",
        ]
        for (column, value) in overrides { values[column] = value }
        return TemporalRow(values: values)
    }

    @Test func everyColumnMaps() throws {
        let record = try Self.row().record(types: Self.schema.attributeTypes)
        #expect(record.key == ExecutionKey(namespaceId: "ns-1", workflowId: "order-7", runId: "run-1"))
        #expect(record.version == 42 && record.status == .completed && record.workflowType == "OrderWorkflow" && record.taskQueue == "q1")
        #expect(record.startTime.rfc3339 == "2026-05-01T10:11:12.345678Z" && record.closeTime?.rfc3339 == "2026-05-01T10:20:00Z")
        #expect(record.historyLength == 12 && record.historySizeBytes == 3400 && record.executionDuration == 527_654_322_000)
        #expect(record.stateTransitionCount == 9 && record.memo == [0x0A, 0x0B] && record.parentWorkflowId == nil)
        #expect(record.searchAttributes["Int01"] == .int(9_007_199_254_740_993), "an Int beyond a Double's 53 bits stays exact")
        #expect(record.searchAttributes["Keyword01"] == .keyword("c-9") && record.searchAttributes["Bool01"] == .bool(true))
        #expect(record.searchAttributes["Double01"] == .double(2.5) && record.searchAttributes["Text01"] == .text("some notes"))
        #expect(record.searchAttributes["KeywordList01"] == .keywordList(["a", "b"]))
        #expect(record.searchAttributes["TemporalChangeVersion"] == .keywordList(["v2"]))
        #expect(record.searchAttributes["Datetime01"] == .datetime(try Timestamp(rfc3339: "2026-05-01T10:11:12.5Z")))
        #expect(Self.schema.customAttributes["Keyword01"] == .keyword && Self.schema.customAttributes["TemporalChangeVersion"] == nil)
    }

    @Test func writtenParametersReadBackAsTheSameRecord() throws {
        let record = try Self.row().record(types: Self.schema.attributeTypes)
        let parameters = TemporalDML.parameters(record)
        var values: [String: String?] = [:]
        for (column, value) in zip(TemporalDML.writtenColumns, parameters) { values[column] = value }
        #expect(try TemporalRow(values: values).record(types: Self.schema.attributeTypes) == record)
        #expect(TemporalDML.upsert.hasSuffix("WHERE executions_visibility._version < EXCLUDED._version"))
        #expect(TemporalDML.insert.hasSuffix("ON CONFLICT (namespace_id, run_id) DO NOTHING"))
    }

    @Test func badValuesNameTheirColumn() {
        let cases: [([String: String?], String)] = [
            (["status": "11"], "status"), (["status": "x"], "status"), (["_version": "1.5"], "_version"),
            (["start_time": "yesterday"], "start_time"), (["memo": "0a0b"], "memo"), (["memo": "\\x0a0"], "memo"),
            (["workflow_id": nil], "workflow_id"), (["encoding": "json"], "encoding"),
            (["search_attributes": "{\"Keyword01\": 5}"], "search_attributes"), (["search_attributes": "[1]"], "search_attributes"),
            (["search_attributes": "{\"CustomerId\": \"x\"}"], "search_attributes"),
            (["search_attributes": "{\"Datetime01\": \"tuesday\"}"], "search_attributes"),
        ]
        for (overrides, column) in cases {
            do {
                _ = try Self.row(overrides).record(types: Self.schema.attributeTypes)
                Issue.record("\(overrides) was accepted")
            } catch {
                #expect(error.column == column, "\(overrides): \(error)")
            }
        }
    }

    @Test func nullsAndEmptiesMapToAbsence() throws {
        let record = try Self.row(["memo": nil, "search_attributes": nil, "close_time": nil, "status": "1", "history_length": nil])
            .record(types: Self.schema.attributeTypes)
        #expect(record.memo.isEmpty && record.searchAttributes.isEmpty && record.closeTime == nil && record.historyLength == nil)
        let empty = try Self.row(["search_attributes": #"{"KeywordList01": [], "Keyword01": null}"#]).record(types: Self.schema.attributeTypes)
        #expect(empty.searchAttributes.isEmpty, "Temporal removes empty and null attributes")
    }

    @Test func aSchemaThatIsNotTemporalsIsRefused() {
        #expect(throws: MigrationError.self) { try TemporalSourceSchema(generatedColumns: ["keyword01": "money"]) }
        #expect(throws: MigrationError.self) { try TemporalSourceSchema(generatedColumns: ["temporalchangeversion": "bigint"]) }
    }

    @Test func theWorkloadIsSeededAndVersioned() {
        var one = TemporalWorkload(seed: 5, namespaceIds: ["a", "b"], firstTaskId: 100, startTime: Timestamp(secondsSinceEpoch: 1_800_000_000))
        var two = one
        let first = (0..<500).map { _ in one.next() }
        #expect(first == (0..<500).map { _ in two.next() }, "the same seed gives the same stream")
        var kinds: [String: Int] = [:]
        for operation in first {
            switch operation {
            case .start(let record): kinds["start", default: 0] += 1; #expect(record.version > 100)
            case .upsert: kinds["upsert", default: 0] += 1
            case .close(let record): kinds["close", default: 0] += 1; #expect(record.closeTime != nil && !record.status.isOpen)
            case .delete: kinds["delete", default: 0] += 1
            }
        }
        #expect(kinds.count == 4, "\(kinds)")
    }
}
