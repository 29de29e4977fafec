import PeriscopeRaft

/// Why a proposal was not applied. Only `.lost` and `.notLeader` can be retried as they
/// are; writes are idempotent by version, so retrying an entry that did commit is harmless.
public enum ReplicationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// This replica does not lead its group; `leader` is the one it follows, if known.
    case notLeader(group: UInt64, leader: UInt64?)
    /// Raft refused the proposal as it stands (too large, too much uncommitted data).
    case refused(group: UInt64, reason: String)
    /// Another leader's entry took the proposal's place in the log: it was not applied.
    case lost(group: UInt64, index: UInt64)
    /// A read found no quorum confirming the group's leader in time: this replica, or its
    /// leader, is cut off from a majority (or an election is under way).
    case noQuorum(group: UInt64, waited: Duration)
    /// This replica stopped leading while the proposal waited: another leader may or may
    /// not commit it, so its outcome is unknown (retrying is safe).
    case leadershipLost(group: UInt64)
    /// The loop stopped (shutdown) before the proposal was applied; it may or may not have
    /// been, so the caller must treat it as unknown (a retry is safe).
    case stopped
    /// Persisting or applying failed; the loop stopped and nothing more is accepted.
    case storageFailed(String)
    /// A leadership transfer is under way (one election timeout at most): the proposal was
    /// not taken; retried, it reaches the new leader.
    case transferring(group: UInt64, to: UInt64)
    /// The node is low on disk (`DiskSpaceGuard`): it takes no proposals until space is
    /// freed; another member takes its leaderships, so a retry can succeed there.
    case diskLow(String)

    public var description: String {
        switch self {
        case .notLeader(let group, let leader):
            "group \(group): this replica is not the leader" + (leader.map { "; the leader is node \($0)" } ?? "; no leader is known")
        case .refused(let group, let reason): "group \(group) refused the proposal: \(reason)"
        case .lost(let group, let index): "group \(group): the proposal at index \(index) was replaced by another leader's entry; retry it"
        case .noQuorum(let group, let waited):
            "group \(group): no quorum confirmed the leader within \(waited) (this node or the leader is cut off from a "
                + "majority, or an election is under way); the read was not served"
        case .leadershipLost(let group):
            "group \(group): this replica lost leadership while the write waited; its outcome is unknown (retrying it is safe)"
        case .stopped: "the node is stopping: the write's outcome is unknown (retrying it is safe)"
        case .storageFailed(let detail): "the node's storage failed and it stopped accepting writes: \(detail)"
        case .transferring(let group, let target):
            "group \(group): its leadership is being transferred to node \(target); the write was not taken (retrying it is safe)"
        case .diskLow(let detail): detail
        }
    }
}
