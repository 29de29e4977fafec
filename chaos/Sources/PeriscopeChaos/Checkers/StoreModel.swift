/// One key's state in the store, as the checkers model it: what a single region keeps for an
/// execution (one run id per key). Shared by the checkers so they agree on the semantics.
struct StoredVersion: Hashable, Sendable {
    var version: Int64
    /// False: a tombstone, which hides the key from reads but still orders later writes.
    var live: Bool
}

enum StoreModel {
    /// The state after `kind` at `version`, and whether the store changed. A start applies
    /// only on an empty key (a tombstone counts as something stored); upsert, close and delete
    /// only above the stored version.
    static func apply(_ kind: HistoryOperation.Kind, version: Int64, to state: StoredVersion?) -> (StoredVersion?, applied: Bool) {
        switch kind {
        case .start:
            return state == nil ? (StoredVersion(version: version, live: true), true) : (state, false)
        case .upsert, .close, .delete:
            guard state.map({ $0.version < version }) ?? true else { return (state, false) }
            return (StoredVersion(version: version, live: kind != .delete), true)
        case .read, .scan, .count:
            preconditionFailure("\(kind) does not change the store")
        }
    }

    /// What a point read returns: the live version, nil for nothing or a tombstone.
    static func read(_ state: StoredVersion?) -> Int64? {
        state.flatMap { $0.live ? $0.version : nil }
    }

    /// True for the writes that leave the key live (start, upsert, close).
    static func isLiveWrite(_ kind: HistoryOperation.Kind) -> Bool {
        kind == .start || kind == .upsert || kind == .close
    }
}

/// Times in a history are nanoseconds since the run's start; evidence shows milliseconds.
func formatMilliseconds(_ nanoseconds: Int64?) -> String {
    guard let nanoseconds else { return "∞" }
    let tenths = nanoseconds / 100_000
    let sign = tenths < 0 ? "-" : ""
    return "\(sign)\(abs(tenths) / 10).\(abs(tenths) % 10)ms"
}
