import Foundation
import PeriscopeModel

/// Random valid queries (over the `sql-test` fixture schema) and random records over a small
/// value domain, so that predicates hit and miss often. Everything comes from a seeded
/// generator. Shared by the query tests and the shard's differential tests.
public struct QueryGenerator {
    public var random: SeededRandom

    public init(random: SeededRandom) { self.random = random }

    public static let keywords = ["a", "b", "ab", "b c", "it's", ""]
    public static let times: [Int64] = [0, 1_000, 1_700_000_000_000_000_000, 1_700_000_000_500_000_000, 1_800_000_000_000_000_000]

    public mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &random)] }
    public mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }

    // MARK: Queries

    public mutating func query(depth: Int = 0) -> String {
        if depth < 3, chance(45) {
            let count = Int.random(in: 2...3, using: &random)
            let joiner = chance(50) ? " AND " : " OR "
            let parts = (0..<count).map { _ in query(depth: depth + 1) }
            let text = parts.joined(separator: joiner)
            return chance(30) ? "NOT (\(text))" : "(\(text))"
        }
        return leaf()
    }

    private mutating func leaf() -> String {
        switch Int.random(in: 0..<11, using: &random) {
        case 0: return keywordLeaf("Keyword01")
        case 1: return keywordLeaf("WorkflowType")
        case 2: return numberLeaf(pick(["Int01", "HistoryLength", "Double01"]))
        case 3: return timeLeaf(pick(["StartTime", "CloseTime", "Datetime01"]))
        case 4:
            let statuses = ["'Running'", "'Completed'", "'Failed'", "2", "'WORKFLOW_EXECUTION_STATUS_TIMED_OUT'"]
            return chance(50) ? "ExecutionStatus \(pick(["=", "!=", "<", ">="])) \(pick(statuses))"
                : "ExecutionStatus \(pick(["IN", "NOT IN"])) (\(pick(statuses)), \(pick(statuses)))"
        case 5: return "KeywordList01 \(pick(["=", "!="])) \(quoted(pick(Self.keywords)))"
        case 6: return "Text01 \(pick(["=", "!="])) '\(pick(["alpha", "beta gamma", "Alpha delta"]))'"
        case 7: return "Bool01 \(pick(["=", "!=", "<", ">"])) \(pick(["TRUE", "FALSE"]))"
        case 9:
            return chance(50) ? "WorkflowId = \(quoted(pick(Self.keywords)))"
                : "WorkflowId IN (\(quoted(pick(Self.keywords))), \(quoted(pick(Self.keywords))))"
        case 10:
            return pick(["TemporalNamespaceDivision = 'TemporalScheduler'", "TemporalNamespaceDivision IS NOT NULL",
                         "TemporalNamespaceDivision IS NULL", "ExecutionTime > 1000", "HistoryLength IS NULL"])
        default: return "\(pick(["Keyword01", "CloseTime", "Int01", "KeywordList01", "Text01", "Bool01"])) IS \(chance(50) ? "" : "NOT ")NULL"
        }
    }

    private mutating func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    private mutating func keywordLeaf(_ name: String) -> String {
        switch Int.random(in: 0..<5, using: &random) {
        case 0: return "\(name) \(pick(["=", "!=", "<", "<=", ">", ">="])) \(quoted(pick(Self.keywords)))"
        case 1: return "\(name) \(pick(["IN", "NOT IN"])) (\(quoted(pick(Self.keywords))), \(quoted(pick(Self.keywords))))"
        case 2: return "\(name) \(pick(["STARTS_WITH", "NOT STARTS_WITH"])) \(quoted(pick(["a", "b", ""])))"
        case 3: return "\(name) \(pick(["BETWEEN", "NOT BETWEEN"])) \(quoted(pick(Self.keywords))) AND \(quoted(pick(Self.keywords)))"
        default: return "\(name) = \(quoted(pick(Self.keywords)))"
        }
    }

    private mutating func numberLeaf(_ name: String) -> String {
        let value = pick(["0", "1", "2", "-1", "1.5", "2.0", "3"])
        switch Int.random(in: 0..<3, using: &random) {
        case 0: return "\(name) \(pick(["=", "!=", "<", "<=", ">", ">="])) \(value)"
        case 1: return "\(name) \(pick(["IN", "NOT IN"])) (\(value), \(pick(["0", "1", "2.5"])))"
        default: return "\(name) \(pick(["BETWEEN", "NOT BETWEEN"])) \(pick(["0", "1", "-2"])) AND \(pick(["1", "2", "1.5"]))"
        }
    }

    private mutating func timeLeaf(_ name: String) -> String {
        let time = pick(Self.times)
        let literal = chance(50) ? String(time) : "'\(Timestamp(nanosecondsSinceEpoch: time).rfc3339)'"
        return chance(70) ? "\(name) \(pick(["=", "!=", "<", "<=", ">", ">="])) \(literal)"
            : "\(name) BETWEEN \(literal) AND \(pick(Self.times))"
    }

    // MARK: Records

    public mutating func record() -> VisibilityRecord {
        var attributes: [String: SearchAttributeValue] = [:]
        if chance(70) { attributes["Keyword01"] = .keyword(pick(Self.keywords)) }
        if chance(70) { attributes["Int01"] = .int(Int64(pick([-1, 0, 1, 2, 3]))) }
        if chance(70) { attributes["Double01"] = .double(pick([0, 1, 1.5, 2, 2.5])) }
        if chance(70) { attributes["Datetime01"] = .datetime(Timestamp(nanosecondsSinceEpoch: pick(Self.times))) }
        if chance(70) { attributes["KeywordList01"] = .keywordList((0..<Int.random(in: 1...3, using: &random)).map { _ in pick(Self.keywords) }) }
        if chance(70) { attributes["Text01"] = .text(pick(["alpha", "Beta", "gamma delta", "nothing"])) }
        if chance(70) { attributes["Bool01"] = .bool(chance(50)) }
        if chance(10) { attributes["TemporalNamespaceDivision"] = .keyword("TemporalScheduler") }
        if chance(5) { attributes["Int02"] = .keyword("wrong type") }
        let closed = chance(60)
        return VisibilityRecord(
            key: ExecutionKey(namespaceId: "ns", workflowId: pick(Self.keywords), runId: "run-\(Int.random(in: 0..<1_000, using: &random))"),
            version: 1, workflowType: pick(Self.keywords), taskQueue: "tq", status: closed ? pick([.completed, .failed, .timedOut]) : .running,
            startTime: Timestamp(nanosecondsSinceEpoch: pick(Self.times)),
            closeTime: closed ? Timestamp(nanosecondsSinceEpoch: pick(Self.times)) : nil,
            historyLength: closed ? Int64(pick([0, 1, 2, 3])) : nil,
            searchAttributes: attributes)
    }
}
