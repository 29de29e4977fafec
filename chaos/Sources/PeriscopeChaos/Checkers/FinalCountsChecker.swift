/// After the heal, counts agree with the point reads: a count of the workload's executions
/// grouped by status, asked of each node, equals what the final strong reads of every key
/// found. Counts come from the indexes summed across shards; point reads from the records;
/// a count that missed or double-counted an execution, or counted it under a stale status,
/// fails.
///
/// A key's status follows from the write that produced its final version: a close leaves it
/// closed, a start or upsert running. A stale upsert reuses an older version number, so one
/// version may name two writes of different kinds; such a key may be counted either way.
public enum FinalCountsChecker {
    public static let name = "counts"

    /// One node's count: the total and the count per status name ("Running", "Completed").
    public struct NodeCount: Sendable, Equatable {
        public var node: String
        public var total: Int64
        public var byStatus: [String: Int64]

        public init(node: String, total: Int64, byStatus: [String: Int64]) {
            self.node = node
            self.total = total
            self.byStatus = byStatus
        }
    }

    public static let running = "Running"
    public static let completed = "Completed"

    /// `final`: each key's version as the final reads found it (nil: absent).
    public static func check(_ history: [HistoryOperation], final: [String: Int64?], counts: [NodeCount]) -> CheckResult {
        var statuses: [String: [Int64: Set<String>]] = [:]
        for operation in history where operation.kind.isWrite && operation.kind != .delete && operation.outcome != .failed {
            guard let version = operation.version else { continue }
            statuses[operation.key, default: [:]][version, default: []].insert(operation.kind == .close ? completed : running)
        }
        var definite: [String: Int64] = [running: 0, completed: 0]
        var ambiguous: Int64 = 0
        var live: Int64 = 0
        var evidence: [String] = []
        for (key, version) in final.sorted(by: { $0.key < $1.key }) {
            guard let version else { continue }
            live += 1
            let candidates = statuses[key]?[version] ?? []
            switch candidates.count {
            case 1: definite[candidates.first!, default: 0] += 1
            case 0: evidence.append("key \(key) read at version \(version), which no write produced")
            default: ambiguous += 1
            }
        }
        for count in counts {
            if count.total != live {
                evidence.append("\(count.node) counted \(count.total) executions; the final reads found \(live)")
            }
            for status in [running, completed] {
                let counted = count.byStatus[status] ?? 0
                let least = definite[status] ?? 0
                if counted < least || counted > least + ambiguous {
                    evidence.append("\(count.node) counted \(counted) \(status); the final reads imply \(least)"
                        + (ambiguous > 0 ? " to \(least + ambiguous)" : ""))
                }
            }
            let others = count.byStatus.filter { $0.key != running && $0.key != completed && $0.value > 0 }
            if !others.isEmpty { evidence.append("\(count.node) counted statuses no write set: \(others.sorted { $0.key < $1.key })") }
        }
        if counts.isEmpty { evidence.append("no node answered the count") }
        return CheckResult(checker: name, passed: evidence.isEmpty, evidence: evidence,
                           summary: "\(counts.count) nodes counted \(live) live executions (\(definite[running] ?? 0) running, "
                               + "\(definite[completed] ?? 0) completed, \(ambiguous) either) as the final reads found them")
    }
}
