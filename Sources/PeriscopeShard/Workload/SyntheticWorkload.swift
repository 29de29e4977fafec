import PeriscopeModel

/// Synthetic executions with a realistic mix, for the crash test and the benchmark: 20
/// workflow types (skewed), 5 task queues, mostly completed with some running, failed,
/// timed out and terminated, starts spread over `days`, and custom attributes of every type.
/// Everything is drawn from the generator the caller passes, so a seed replays.
public struct SyntheticWorkload: Sendable {
    public let namespaceId: String
    /// The latest start time; starts spread over `days` before it.
    public let origin: Timestamp
    public let days: Int

    public init(namespaceId: String = "bench", origin: Timestamp, days: Int = 30) {
        self.namespaceId = namespaceId
        self.origin = origin
        self.days = days
    }

    /// The custom attributes the executions carry (the namespace schema for queries).
    public static let customAttributes: [String: SearchAttributeType] = [
        "CustomKeywordField": .keyword, "CustomIntField": .int, "CustomDoubleField": .double, "CustomBoolField": .bool,
        "CustomDatetimeField": .datetime, "CustomTextField": .text,
    ]

    static let words = ["payment", "refund", "order", "shipment", "invoice", "customer", "retry", "timeout", "batch",
                        "nightly", "report", "sync", "import", "export", "audit", "review", "approve", "reject",
                        "notify", "archive"]

    /// Execution `number`: its start, and its close if it has closed.
    public func execution(_ number: Int, using random: inout some RandomNumberGenerator) -> (start: VisibilityRecord, close: VisibilityRecord?) {
        let second: Int64 = 1_000_000_000
        let start = Timestamp(nanosecondsSinceEpoch: origin.nanosecondsSinceEpoch - Int64.random(in: 0..<Int64(days) * 86_400, using: &random) * second)
        // Skewed types: a few types carry most executions, as in real deployments.
        let type = min(Int(Double.random(in: 0..<1, using: &random) * Double.random(in: 0..<1, using: &random) * 20), 19)
        let roll = Int.random(in: 0..<100, using: &random)
        let status: ExecutionStatus = roll < 12 ? .running : roll < 87 ? .completed : roll < 95 ? .failed : roll < 98 ? .timedOut : .terminated
        var attributes: [String: SearchAttributeValue] = [
            "CustomKeywordField": .keyword("customer-\(Int.random(in: 0..<1_000, using: &random))"),
            "CustomIntField": .int(Int64.random(in: 0..<1_000, using: &random)),
            "CustomBoolField": .bool(Bool.random(using: &random)),
            "CustomTextField": .text((0..<3).map { _ in Self.words.randomElement(using: &random)! }.joined(separator: " ")),
        ]
        if Int.random(in: 0..<2, using: &random) == 0 { attributes["CustomDoubleField"] = .double(Double.random(in: 0..<100, using: &random)) }
        if Int.random(in: 0..<3, using: &random) == 0 {
            attributes["CustomDatetimeField"] = .datetime(Timestamp(nanosecondsSinceEpoch: start.nanosecondsSinceEpoch + 3_600 * second))
        }
        attributes["BuildIds"] = .keywordList(["v1.\(Int.random(in: 0..<10, using: &random))"])
        let workflowId = "wf-\(number)"
        let open = VisibilityRecord(
            key: ExecutionKey(namespaceId: namespaceId, workflowId: workflowId, runId: "run-\(number)-\(Int.random(in: 0..<1_000_000, using: &random))"),
            version: 1, workflowType: "Type\(type)", taskQueue: "queue-\(Int.random(in: 0..<5, using: &random))", status: .running,
            startTime: start, rootWorkflowId: workflowId, searchAttributes: attributes)
        guard status != .running else { return (open, nil) }
        var closed = open
        let duration = Int64.random(in: 1..<7_200, using: &random) * second
        closed.version = 2
        closed.status = status
        closed.closeTime = Timestamp(nanosecondsSinceEpoch: start.nanosecondsSinceEpoch + duration)
        closed.executionDuration = duration
        closed.historyLength = Int64.random(in: 5..<500, using: &random)
        closed.historySizeBytes = closed.historyLength! * 420
        closed.stateTransitionCount = closed.historyLength! / 2
        return (open, closed)
    }
}
