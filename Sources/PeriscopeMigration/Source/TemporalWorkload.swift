import PeriscopeModel
import PeriscopeRaft

/// A seeded stream of what Temporal's visibility task executor asks of its SQL store:
/// starts, upserts (search attributes changing), closes, deletes, and the retried and late
/// tasks its out-of-order executor produces (a start sent again, an upsert older than the
/// stored row). Versions are task ids, increasing. Pure: the same seed gives the same stream.
public struct TemporalWorkload: Sendable {
    public enum Operation: Sendable, Equatable {
        case start(VisibilityRecord)
        case upsert(VisibilityRecord)
        case close(VisibilityRecord)
        case delete(namespaceId: String, runId: String)

        /// The SQL statement and parameters Temporal's PostgreSQL store runs for it.
        public var statement: (sql: String, parameters: [String?]) {
            switch self {
            case .start(let record): (TemporalDML.insert, TemporalDML.parameters(record))
            case .upsert(let record), .close(let record): (TemporalDML.upsert, TemporalDML.parameters(record))
            case .delete(let namespaceId, let runId): (TemporalDML.delete, [namespaceId, runId])
            }
        }
    }

    public let namespaceIds: [String]
    private var random: SeededRandom
    private var nextTaskId: Int64
    private var serial = 0
    /// Open executions the stream may upsert or close, at most `openMax`.
    private var open: [VisibilityRecord] = []
    /// Closed executions it may delete, at most `closedMax`.
    private var closed: [VisibilityRecord] = []
    /// Recent operations, sent again late (retries), at most `recentMax`.
    private var recent: [Operation] = []
    private let startTime: Timestamp

    static let openMax = 2_000
    static let closedMax = 2_000
    static let recentMax = 64

    /// `firstTaskId`: above every `_version` the source holds already (the writer reads it).
    public init(seed: UInt64, namespaceIds: [String], firstTaskId: Int64, startTime: Timestamp) {
        precondition(!namespaceIds.isEmpty)
        self.namespaceIds = namespaceIds
        random = SeededRandom(seed: seed)
        nextTaskId = firstTaskId
        self.startTime = startTime
    }

    public mutating func next() -> Operation {
        let roll = Int.random(in: 0..<100, using: &random)
        let operation: Operation
        switch roll {
        case 0..<8 where !recent.isEmpty:
            // A task executed again, or late: the store must keep the newest version.
            return recent[Int.random(in: 0..<recent.count, using: &random)]
        case 0..<40 where open.count < Self.openMax, 0..<100 where open.isEmpty:
            operation = .start(started())
        case 40..<70 where !open.isEmpty:
            operation = .upsert(upserted(at: Int.random(in: 0..<open.count, using: &random)))
        case 70..<94 where !open.isEmpty:
            operation = .close(closedRecord(at: Int.random(in: 0..<open.count, using: &random)))
        default:
            if !closed.isEmpty {
                let record = closed.remove(at: Int.random(in: 0..<closed.count, using: &random))
                operation = .delete(namespaceId: record.key.namespaceId, runId: record.key.runId)
            } else {
                operation = .start(started())
            }
        }
        recent.append(operation)
        if recent.count > Self.recentMax { recent.removeFirst() }
        return operation
    }

    private mutating func taskId() -> Int64 {
        nextTaskId += 1 + Int64.random(in: 0..<3, using: &random)
        return nextTaskId
    }

    private mutating func started() -> VisibilityRecord {
        serial += 1
        let namespaceId = namespaceIds[Int.random(in: 0..<namespaceIds.count, using: &random)]
        let start = Timestamp(nanosecondsSinceEpoch: startTime.nanosecondsSinceEpoch + Int64(serial) * 1_000_000 + Int64.random(in: 0..<999_000, using: &random))
        let runId = Self.uuid(&random)
        var record = VisibilityRecord(
            key: ExecutionKey(namespaceId: namespaceId, workflowId: "order-\(serial % 5_000)", runId: runId),
            version: taskId(), workflowType: ["OrderWorkflow", "PaymentWorkflow", "ShipmentWorkflow"][serial % 3],
            taskQueue: "queue-\(serial % 4)", status: .running, startTime: start,
            executionTime: start, rootWorkflowId: "order-\(serial % 5_000)", rootRunId: runId,
            memo: (0..<Int.random(in: 0..<48, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
        if serial % 7 == 0 { record.parentWorkflowId = "parent-\(serial % 100)"; record.parentRunId = Self.uuid(&random) }
        record.searchAttributes = [
            "Keyword01": .keyword("customer-\(Int.random(in: 0..<500, using: &random))"),
            "Int01": .int(Int64.random(in: -1_000...1_000_000, using: &random)),
            "Bool01": .bool(Bool.random(using: &random)),
        ]
        if serial % 3 == 0 { record.searchAttributes["TemporalChangeVersion"] = .keywordList(["fix-\(serial % 9)", "v2"]) }
        open.append(record)
        return record
    }

    private mutating func upserted(at index: Int) -> VisibilityRecord {
        var record = open[index]
        record.version = taskId()
        record.searchAttributes["Double01"] = .double(Double(Int.random(in: 0..<100_000, using: &random)) / 100)
        record.searchAttributes["Datetime01"] = .datetime(Timestamp(nanosecondsSinceEpoch: record.startTime.nanosecondsSinceEpoch + 60_000_000_000))
        record.searchAttributes["KeywordList01"] = .keywordList((0..<Int.random(in: 1...3, using: &random)).map { "tag-\($0)" })
        record.searchAttributes["Text01"] = .text("order notes \(Int.random(in: 0..<1_000, using: &random))")
        open[index] = record
        return record
    }

    private mutating func closedRecord(at index: Int) -> VisibilityRecord {
        var record = open.remove(at: index)
        record.version = taskId()
        record.status = [.completed, .completed, .completed, .failed, .terminated, .timedOut, .canceled][Int.random(in: 0..<7, using: &random)]
        let duration = Int64.random(in: 1_000_000...600_000_000_000, using: &random)
        record.closeTime = Timestamp(nanosecondsSinceEpoch: record.startTime.nanosecondsSinceEpoch + duration)
        record.executionDuration = duration
        record.historyLength = Int64.random(in: 5...5_000, using: &random)
        record.historySizeBytes = Int64.random(in: 500...5_000_000, using: &random)
        record.stateTransitionCount = Int64.random(in: 3...3_000, using: &random)
        closed.append(record)
        if closed.count > Self.closedMax { closed.removeFirst() }
        return record
    }

    /// A random version-4 UUID, as Temporal's run ids are.
    static func uuid(_ random: inout SeededRandom) -> String {
        let high = random.next(), low = random.next()
        let hex = String(high, radix: 16).leftPadded(16) + String(low, radix: 16).leftPadded(16)
        let digits = Array(hex)
        return String(digits[0..<8]) + "-" + String(digits[8..<12]) + "-4" + String(digits[13..<16]) + "-a" + String(digits[17..<20])
            + "-" + String(digits[20..<32])
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
