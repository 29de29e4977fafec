/// Every acknowledged write is there afterwards, in its newest acknowledged version, and no
/// write that definitely failed is: the history's writes against the executions' versions as
/// read after the run (by strong reads through every node, once healed). Versions decide
/// (a higher version replaces a lower one), so a key's final version must be at least its
/// newest acknowledged write's, and must be one some write of it could have produced (an
/// acknowledged or unknown one, never a failed one alone).
public enum AcknowledgedWritesChecker {
    public static let name = "acknowledged writes"

    /// `final`: each key's version as read after the run (nil or missing: absent).
    public static func check(_ history: [HistoryOperation], final: [String: Int64?]) -> CheckResult {
        var acknowledged: [String: Int64] = [:]
        var possible: [String: Set<Int64>] = [:]
        var failed: [String: Set<Int64>] = [:]
        for operation in history where operation.kind == .write {
            guard let version = operation.version else { continue }
            switch operation.outcome {
            case .ok:
                acknowledged[operation.key] = max(acknowledged[operation.key] ?? .min, version)
                possible[operation.key, default: []].insert(version)
            case .unknown:
                possible[operation.key, default: []].insert(version)
            case .failed:
                failed[operation.key, default: []].insert(version)
            }
        }
        var evidence: [String] = []
        for (key, newest) in acknowledged.sorted(by: { $0.key < $1.key }) {
            let seen = final[key] ?? nil
            guard let seen, seen >= newest else {
                evidence.append("lost: \(key) acknowledged at version \(newest), found \(seen.map { "version \($0)" } ?? "absent")")
                continue
            }
        }
        for (key, seen) in final.sorted(by: { $0.key < $1.key }) {
            guard let seen else { continue }
            if !(possible[key]?.contains(seen) ?? false) {
                let why = failed[key]?.contains(seen) == true ? "a write that failed definitely" : "no write of the history"
                evidence.append("phantom: \(key) found at version \(seen), written only by \(why)")
            }
        }
        return CheckResult(checker: name, passed: evidence.isEmpty, evidence: Array(evidence.prefix(CheckResult.evidenceMax))
            + (evidence.count > CheckResult.evidenceMax ? ["… and \(evidence.count - CheckResult.evidenceMax) more"] : []))
    }
}
