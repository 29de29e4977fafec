/// How a leader is sending to one follower.
public enum ProgressState: String, Sendable, Hashable {
    /// Where the follower's log matches is unknown: one append at a time until one is accepted.
    case probe
    /// Logs match up to `match`: appends stream optimistically, bounded by the inflight window.
    case replicate
    /// The follower needs entries that were compacted: a snapshot is on its way.
    case snapshot
}

/// A leader's view of one follower's log.
struct Progress {
    var match: LogIndex = 0
    var next: LogIndex
    var state: ProgressState = .probe
    /// In `.snapshot`: the index of the snapshot sent.
    var pendingSnapshot: LogIndex = 0
    /// Heard from since the last check-quorum round.
    var recentActive = false
    /// In `.probe`: an append is out and unanswered; wait for it (or a heartbeat response).
    var probeSent = false
    /// The leader's tick at sending the latest heartbeat this follower acknowledged.
    var leaseAcknowledgedTick: UInt64 = 0
    var inflights: Inflights
    var isLearner: Bool

    init(next: LogIndex, inflightCapacity: Int, isLearner: Bool) {
        self.next = next
        inflights = Inflights(capacity: inflightCapacity)
        self.isLearner = isLearner
    }

    private mutating func reset(to state: ProgressState) {
        probeSent = false
        pendingSnapshot = 0
        self.state = state
        inflights.reset()
    }

    mutating func becomeProbe() {
        // Back from a snapshot: resume after what it covered (or what we know matches).
        let resumeAt = state == .snapshot ? max(match + 1, pendingSnapshot + 1) : match + 1
        reset(to: .probe)
        next = resumeAt
    }

    mutating func becomeReplicate() {
        reset(to: .replicate)
        next = match + 1
    }

    mutating func becomeSnapshot(at index: LogIndex) {
        reset(to: .snapshot)
        pendingSnapshot = index
    }

    /// The follower accepted up to `index`; false if that is old news.
    mutating func maybeUpdate(_ index: LogIndex) -> Bool {
        var updated = false
        if match < index {
            match = index
            updated = true
            probeSent = false
        }
        next = max(next, index + 1)
        return updated
    }

    /// The follower rejected the append after `rejected`; `hint` is where its log might
    /// match. Returns false for a stale rejection.
    mutating func maybeDecrease(rejected: LogIndex, hint: LogIndex) -> Bool {
        if state == .replicate {
            guard rejected > match else { return false }
            next = match + 1
            return true
        }
        guard next - 1 == rejected else { return false }
        next = max(min(rejected, hint + 1), match + 1)
        probeSent = false
        return true
    }

    var isPaused: Bool {
        switch state {
        case .probe: return probeSent
        case .replicate: return inflights.isFull
        case .snapshot: return true
        }
    }
}
