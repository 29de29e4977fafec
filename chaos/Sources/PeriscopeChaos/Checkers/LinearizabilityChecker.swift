/// Strong point reads and every write are linearizable: each key's operations can be put in
/// one order, consistent with real time (an operation that completed before another was
/// invoked comes first), in which a sequential store gives the answers the history saw.
///
/// The model is one key's register (`StoreModel`); keys are independent (P-compositionality),
/// so each is searched alone with Wing & Gong's algorithm as improved by Lowe and used by
/// Porcupine. An unknown write may take effect at any time after its invocation, or never
/// (its completion is taken as infinity and its answer is unconstrained); a failed one never
/// does, so it is dropped. An acknowledged write that answered "applied" must have changed
/// the store where it is placed; "not applied" does not bind (see `RegisterOperation`). Eventual and read-your-writes reads, reads without an answer,
/// scans and counts are other checkers' business.
///
/// The search is exponential at worst, so each key has a bound of visited states; a key that
/// exceeds it is inconclusive and fails the check: a bound must never pass a history silently.
public enum LinearizabilityChecker {
    public static let name = "linearizability"

    public static func check(_ history: [HistoryOperation], maxStatesPerKey: Int = 2_000_000) -> CheckResult {
        let byKey = Dictionary(grouping: history.compactMap(RegisterOperation.init), by: \.source.key)
        var evidence: [String] = []
        var inconclusive = 0
        for (key, operations) in byKey.sorted(by: { $0.key < $1.key }) {
            var search = LinearizabilitySearch(operations, maxStates: maxStatesPerKey)
            switch search.run() {
            case .linearizable:
                continue
            case .inconclusive(let states):
                inconclusive += 1
                evidence.append("inconclusive: key \(key), \(operations.count) operations, search bound exceeded (\(states) states)")
            case .violation(let failure):
                evidence.append(describe(failure, key: key, operations: operations))
            }
        }
        let operations = byKey.values.reduce(0) { $0 + $1.count }
        let reads = byKey.values.reduce(0) { $0 + $1.filter(\.isRead).count }
        var summary = "\(byKey.count) keys, \(operations) operations (\(operations - reads) writes, \(reads) strong reads)"
        if inconclusive > 0 { summary += ", \(inconclusive) keys inconclusive" }
        return CheckResult(checker: name, passed: evidence.isEmpty, evidence: evidence, summary: summary)
    }

    /// Names the operation that could not be placed after the longest linearizable prefix, the
    /// state that prefix left, and the writes around it in time.
    static func describe(_ failure: LinearizabilitySearch.Failure, key: String, operations: [RegisterOperation]) -> String {
        let blocked = operations[failure.blocked]
        let state = failure.state.map { $0.live ? "live at version \($0.version)" : "deleted at version \($0.version)" } ?? "nothing stored"
        let after = failure.lastLinearized.map { operations[$0].description }
        var line = "not linearizable: key \(key) (\(operations.count) operations): \(blocked) cannot be placed;"
            + " after \(failure.depth) operations\(after.isEmpty ? "" : " (last: \(after.joined(separator: "; ")))") the store holds \(state)"
        let around = operations.indices.filter { index in
            let other = operations[index]
            guard index != failure.blocked, !other.isRead else { return false }
            return other.call <= blocked.ret && other.ret >= blocked.call
        }
        let before = operations.indices.filter { !operations[$0].isRead && operations[$0].ret < blocked.call }
            .sorted { operations[$0].ret < operations[$1].ret }.suffix(2)
        let nearby = (Array(before) + around).prefix(6).map { operations[$0].description }
        if !nearby.isEmpty { line += "; writes around it: " + nearby.joined(separator: "; ") }
        return line
    }
}

/// One operation of a key's register, as the search sees it.
struct RegisterOperation: CustomStringConvertible {
    enum Input {
        /// `expectApplied`: the answer an acknowledged write gave (nil: unconstrained).
        case write(HistoryOperation.Kind, version: Int64, expectApplied: Bool?)
        case read(observed: Int64?)
    }

    let source: HistoryOperation
    let input: Input
    let call: Int64
    /// `Int64.max` for a write that may land at any time.
    let ret: Int64

    var isRead: Bool { if case .read = input { return true } else { return false } }

    /// Nil for what the checker ignores (see `LinearizabilityChecker`).
    init?(_ operation: HistoryOperation) {
        source = operation
        call = operation.invokedNanoseconds
        switch (operation.kind, operation.outcome) {
        case (.start, _), (.upsert, _), (.close, _), (.delete, _):
            guard operation.outcome != .failed, let version = operation.version else { return nil }
            let known = operation.outcome == .ok
            // Only "applied" binds: the client retries writes, and a retry of one whose first
            // attempt landed (its answer lost) truthfully answers "not applied".
            input = .write(operation.kind, version: version, expectApplied: known && operation.applied == true ? true : nil)
            ret = known ? max(call, operation.completedNanoseconds ?? .max) : .max
        case (.read, .ok):
            guard operation.consistency == .strong, let completed = operation.completedNanoseconds else { return nil }
            input = .read(observed: operation.version)
            ret = max(call, completed)
        default:
            return nil
        }
    }

    /// The state after this operation from `state`, or nil (`ok` false) if its answer differs.
    func step(_ state: StoredVersion?) -> (ok: Bool, state: StoredVersion?) {
        switch input {
        case .write(let kind, let version, let expectApplied):
            let (next, applied) = StoreModel.apply(kind, version: version, to: state)
            return (expectApplied.map { $0 == applied } ?? true, next)
        case .read(let observed):
            return (StoreModel.read(state) == observed, state)
        }
    }

    var description: String {
        let window = "[\(formatMilliseconds(call))–\(formatMilliseconds(ret == .max ? nil : ret))]"
        switch input {
        case .read(let observed):
            return "strong read by client \(source.client) \(window) returned \(observed.map { "version \($0)" } ?? "absent")"
        case .write(let kind, let version, let expectApplied):
            let answer = source.outcome == .ok ? "ok" + (expectApplied.map { $0 ? " (applied)" : " (not applied)" } ?? "") : "unknown"
            return "\(kind.rawValue) v\(version) by client \(source.client) \(window) \(answer)"
        }
    }
}
