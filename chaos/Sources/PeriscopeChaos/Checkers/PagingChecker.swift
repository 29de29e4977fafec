/// A paginated scan, which reads from one point in time across its pages, returns each key at
/// most once and misses none that existed for the whole scan: written (acknowledged) before
/// the scan began, and no delete that may have landed (acknowledged or unknown) invoked before
/// it ended. Keys written or deleted during the scan may or may not appear.
///
/// A scan whose point in time was lost (a node restarted, or it paused past the retention) is
/// allowed to repeat or miss keys by design, so it is counted, not judged.
public enum PagingChecker {
    public static let name = "paging"

    public static func check(_ history: [HistoryOperation]) -> CheckResult {
        let lifetimes = KeyLifetimes(history)
        var evidence: [String] = []
        var judged = 0
        var lostPointInTime = 0
        for scan in history where scan.kind == .scan && scan.outcome == .ok {
            guard let keys = scan.scanKeys else { continue }
            if scan.pointInTimeLost == true {
                lostPointInTime += 1
                continue
            }
            judged += 1
            let by = "scan by client \(scan.client) at \(formatMilliseconds(scan.invokedNanoseconds))"
            var seen: Set<String> = []
            var repeated: Set<String> = []
            for key in keys where !seen.insert(key).inserted && repeated.insert(key).inserted {
                evidence.append("\(by): returned \(key) twice")
            }
            let completed = scan.completedNanoseconds ?? scan.invokedNanoseconds
            for key in lifetimes.existedThroughout(from: scan.invokedNanoseconds, to: completed) where !seen.contains(key) {
                evidence.append("\(by): skipped \(key) (existed throughout)")
            }
        }
        var summary = "\(judged) scans judged"
        if lostPointInTime > 0 { summary += "; \(lostPointInTime) scans lost their point in time (not judged)" }
        return CheckResult(checker: name, passed: evidence.isEmpty, evidence: evidence, summary: summary)
    }
}

/// Per key, the first moment it surely existed and the first moment it may have stopped.
private struct KeyLifetimes {
    /// The earliest completion of an acknowledged start, upsert or close.
    private var written: [String: Int64] = [:]
    /// The earliest invocation of a delete that may have landed.
    private var deleted: [String: Int64] = [:]
    private let keys: [String]

    init(_ history: [HistoryOperation]) {
        for operation in history where operation.kind.isWrite {
            if StoreModel.isLiveWrite(operation.kind) {
                guard operation.outcome == .ok, let completed = operation.completedNanoseconds else { continue }
                written[operation.key] = min(written[operation.key] ?? .max, completed)
            } else if operation.outcome != .failed {
                deleted[operation.key] = min(deleted[operation.key] ?? .max, operation.invokedNanoseconds)
            }
        }
        keys = written.keys.sorted()
    }

    /// Keys written before `start` that no delete invoked before `end` may have removed.
    func existedThroughout(from start: Int64, to end: Int64) -> [String] {
        keys.filter { written[$0]! < start && (deleted[$0] ?? .max) >= end }
    }
}
