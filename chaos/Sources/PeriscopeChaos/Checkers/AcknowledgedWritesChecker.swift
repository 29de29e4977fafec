/// Every acknowledged write or delete survives the run, and nothing appears that no write
/// could have produced: the history's writes against each key's live version as read after
/// the run (strong reads through every node, once healed).
///
/// Versions order a key's writes, so the newest acknowledged one decides: after a write at
/// v the key must be live at v or above, or absent only because a delete above v may have
/// landed (acknowledged or unknown); after a delete at v it must be absent, or live above v
/// through a write that may have landed. A live version must come from an acknowledged or
/// unknown write of that key: a definitely failed write, or none, makes it a phantom.
public enum AcknowledgedWritesChecker {
    public static let name = "acknowledged writes"

    /// `final`: each key's live version as read after the run (nil: absent). A key the
    /// history wrote but `final` lacks counts as absent.
    public static func check(_ history: [HistoryOperation], final: [String: Int64?]) -> CheckResult {
        var writes: [String: KeyWrites] = [:]
        for operation in history where operation.kind.isWrite {
            guard operation.version != nil else { continue }
            writes[operation.key, default: KeyWrites()].add(operation)
        }
        var evidence: [String] = []
        var acknowledgedCount = 0
        for (key, keyWrites) in writes.sorted(by: { $0.key < $1.key }) {
            acknowledgedCount += keyWrites.acknowledged.count
            let seen = final[key] ?? nil
            if let line = keyWrites.lostOrResurrected(key: key, seen: seen) { evidence.append(line) }
        }
        for (key, seen) in final.sorted(by: { $0.key < $1.key }) {
            guard let seen else { continue }
            if let line = (writes[key] ?? KeyWrites()).phantom(key: key, seen: seen) { evidence.append(line) }
        }
        let keys = Set(writes.keys).union(final.keys).count
        return CheckResult(checker: name, passed: evidence.isEmpty, evidence: evidence,
                           summary: "\(keys) keys, \(acknowledgedCount) acknowledged writes")
    }
}

/// One key's writes, sorted by what they tell the checker.
private struct KeyWrites {
    /// Acknowledged writes and deletes that may set the key's floor (see `add`).
    var acknowledged: [HistoryOperation] = []
    /// Live versions an acknowledged or unknown start, upsert or close may have left.
    var possibleLive: Set<Int64> = []
    /// Versions of deletes that may have landed (acknowledged or unknown).
    var possibleDeletes: [Int64] = []
    var failedLive: Set<Int64> = []

    mutating func add(_ operation: HistoryOperation) {
        let version = operation.version!
        let live = StoreModel.isLiveWrite(operation.kind)
        switch operation.outcome {
        case .ok:
            // A start that found something stored says nothing about versions: what it found
            // may be older than its own.
            if !(operation.kind == .start && operation.applied == false) { acknowledged.append(operation) }
            if live { possibleLive.insert(version) } else { possibleDeletes.append(version) }
        case .unknown:
            if live { possibleLive.insert(version) } else { possibleDeletes.append(version) }
        case .failed:
            if live { failedLive.insert(version) }
        }
    }

    /// The newest acknowledged operation; at one version, the one that changed the store wins
    /// (the other found it already there).
    var newest: HistoryOperation? {
        acknowledged.max { ($0.version!, $0.applied == true ? 1 : 0) < ($1.version!, $1.applied == true ? 1 : 0) }
    }

    func lostOrResurrected(key: String, seen: Int64?) -> String? {
        guard let newest else { return nil }
        let version = newest.version!
        // An acknowledged write that changed nothing found an operation at least as new; at an
        // equal version that may be the other kind, so equality is allowed then.
        let tieAllowed = newest.applied != true
        if StoreModel.isLiveWrite(newest.kind) {
            if let seen, seen >= version { return nil }
            if seen == nil && possibleDeletes.contains(where: { $0 > version || (tieAllowed && $0 == version) }) { return nil }
            return "lost: \(key) acknowledged at version \(version), found \(seen.map { "version \($0)" } ?? "absent")"
        }
        guard let seen else { return nil }
        if seen > version || (tieAllowed && seen == version) { return nil }
        return "resurrected: \(key) deleted at version \(version) (acknowledged), found version \(seen)"
    }

    func phantom(key: String, seen: Int64) -> String? {
        guard !possibleLive.contains(seen) else { return nil }
        let why = failedLive.contains(seen) ? "a write that failed definitely" : "no write of the history"
        return "phantom: \(key) found at version \(seen), written only by \(why)"
    }
}
