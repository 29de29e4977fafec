import PeriscopeModel
import PeriscopeQuery

/// The index keys one record has: what the indexer writes for it and what `verify`
/// recomputes. Pure.
struct IndexEntries: Equatable {
    var time: [[UInt8]] = []
    var terms: [[UInt8]] = []
    var values: [[UInt8]] = []

    subscript(index: ShardIndex) -> [[UInt8]] {
        switch index {
        case .time: time
        case .terms: terms
        case .values: values
        }
    }

    /// System keyword fields in the inverted index (ExecutionStatus is added by number).
    static let systemTerms: [(String, @Sendable (VisibilityRecord) -> String?)] = [
        ("WorkflowId", { $0.key.workflowId }), ("RunId", { $0.key.runId }), ("WorkflowType", { $0.workflowType }),
        ("TaskQueue", { $0.taskQueue }), ("ParentWorkflowId", { $0.parentWorkflowId }), ("ParentRunId", { $0.parentRunId }),
        ("RootWorkflowId", { $0.rootWorkflowId }), ("RootRunId", { $0.rootRunId }),
    ]

    /// ExecutionStatus, in the inverted index by its number.
    static let statusField = "ExecutionStatus"

    /// System Int and Datetime fields in the value index.
    static let systemValues: [(String, SearchAttributeType, @Sendable (VisibilityRecord) -> TupleElement?)] = [
        ("StartTime", .datetime, { .timestamp($0.startTime) }),
        ("ExecutionTime", .datetime, { .timestamp($0.executionTime) }),
        ("CloseTime", .datetime, { $0.closeTime.map(TupleElement.timestamp) }),
        ("ExecutionDuration", .int, { $0.executionDuration.map(TupleElement.int) }),
        ("HistoryLength", .int, { $0.historyLength.map(TupleElement.int) }),
        ("HistorySizeBytes", .int, { $0.historySizeBytes.map(TupleElement.int) }),
        ("StateTransitionCount", .int, { $0.stateTransitionCount.map(TupleElement.int) }),
    ]

    init() {}

    init(_ record: VisibilityRecord, scheme: PartitionScheme) {
        let parts = RecordKeyParts(record, scheme.partition(of: record))
        time = [parts.time]
        func term(_ field: String, _ type: SearchAttributeType, _ value: TupleElement) {
            terms.append(parts.posting(field: field, type: type, value: value))
        }
        func value(_ field: String, _ type: SearchAttributeType, _ element: TupleElement) {
            values.append(parts.posting(field: field, type: type, value: element))
        }
        for (field, read) in Self.systemTerms {
            if let string = read(record) { term(field, .keyword, .string(string)) }
        }
        term(Self.statusField, .keyword, .int(Int64(record.status.rawValue)))
        for (field, type, read) in Self.systemValues {
            if let element = read(record) { value(field, type, element) }
        }
        for (name, attribute) in record.searchAttributes {
            switch attribute {
            case .keyword(let string): term(name, .keyword, .string(string))
            case .bool(let flag): term(name, .bool, .bool(flag))
            case .keywordList(let strings):
                // Distinct by bytes: canonically equivalent spellings are different keywords.
                for string in Self.distinctByBytes(strings) { term(name, .keywordList, .string(string)) }
            case .text(let text):
                for token in Self.distinctByBytes(TextTokens.tokens(text)) { term(name, .text, .string(token)) }
            case .int(let number): value(name, .int, .int(number))
            case .double(let number): value(name, .double, .double(number))
            case .datetime(let time): value(name, .datetime, .timestamp(time))
            }
        }
    }

    static func distinctByBytes(_ strings: [String]) -> [String] {
        var seen: Set<[UInt8]> = []
        return strings.filter { seen.insert(Array($0.utf8)).inserted }
    }
}
