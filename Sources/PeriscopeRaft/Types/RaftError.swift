/// Why a request to a replica was refused. Nothing was appended when one of these is thrown.
public enum RaftError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Only the leader takes writes, reads and transfers; `leader` is who to ask (if known).
    case notLeader(leader: NodeID?)
    /// A leadership transfer is under way; proposals wait until it ends (one election timeout).
    case transferInProgress(to: NodeID)
    case proposalTooLarge(bytes: Int, limit: Int)
    /// Too many bytes proposed but not yet committed: back off and retry.
    case uncommittedLimitReached(bytes: Int, limit: Int)
    /// One membership change at a time, and not before this leader committed its first entry.
    case confChangePending(index: LogIndex)
    case invalidConfChange(String)
    /// The transfer target is unknown or a learner.
    case invalidTransferTarget(NodeID)
    /// This replica is a learner or has been removed: it cannot lead.
    case notPromotable

    public var description: String {
        switch self {
        case .notLeader(let leader?): return "not the leader; the leader is node \(leader)"
        case .notLeader(nil): return "not the leader, and no leader is known (an election is under way)"
        case .transferInProgress(let to): return "leadership is being transferred to node \(to); retry shortly"
        case .proposalTooLarge(let bytes, let limit): return "proposal of \(bytes) bytes exceeds the limit of \(limit) bytes"
        case .uncommittedLimitReached(let bytes, let limit):
            return "\(bytes) bytes are proposed but not yet committed (limit \(limit)); retry later"
        case .confChangePending(let index): return "a membership change is pending (at index \(index) or the leader's first entry); retry once it is applied"
        case .invalidConfChange(let reason): return "invalid membership change: \(reason)"
        case .invalidTransferTarget(let node): return "node \(node) cannot take leadership (not a voter of this group)"
        case .notPromotable: return "this replica is not a voter and cannot campaign"
        }
    }
}
