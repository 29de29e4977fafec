/// A read carrying a client's write token sees that write or something newer: its version is
/// at least the token's (after the client's own delete: absent, or a newer version). Absent is allowed only when a delete above the token's version (an
/// acknowledged or unknown one) was invoked before the read completed, as it may have landed
/// first.
public enum ReadYourWritesChecker {
    public static let name = "read your writes"

    public static func check(_ history: [HistoryOperation]) -> CheckResult {
        var deletes: [String: [HistoryOperation]] = [:]
        for operation in history where operation.kind == .delete && operation.outcome != .failed && operation.version != nil {
            deletes[operation.key, default: []].append(operation)
        }
        // The reading client's own acknowledged deletes: a token from a delete promises absence
        // (or something newer), not the version.
        var ownDeletes: Set<String> = []
        for operation in history where operation.kind == .delete && operation.outcome == .ok {
            if let version = operation.version { ownDeletes.insert("\(operation.client)/\(operation.key)/\(version)") }
        }
        var evidence: [String] = []
        var checked = 0
        for read in history where read.kind == .read && read.consistency == .readYourWrites && read.outcome == .ok {
            guard let required = read.requiredVersion else { continue }
            checked += 1
            if ownDeletes.contains("\(read.client)/\(read.key)/\(required)") {
                if read.version.map({ $0 > required }) ?? true { continue }
            } else if let seen = read.version, seen >= required {
                continue
            }
            let completed = read.completedNanoseconds ?? .max
            let deletedAbove = deletes[read.key]?.contains { $0.version! > required && $0.invokedNanoseconds < completed } ?? false
            if read.version == nil && deletedAbove { continue }
            evidence.append("read-your-writes: read of \(read.key) by client \(read.client) at \(formatMilliseconds(read.invokedNanoseconds))"
                + " required version \(required), found \(read.version.map { "version \($0)" } ?? "absent")")
        }
        return CheckResult(checker: name, passed: evidence.isEmpty, evidence: evidence, summary: "\(checked) read-your-writes reads")
    }
}
