import PeriscopeShard

/// What a Raft group replicates into: a shard, or the node's catalog. Called only from the
/// `RaftLoop`'s thread, in log order.
public protocol ReplicatedStateMachine: AnyObject, Sendable {
    /// What applying one entry tells its proposer.
    associatedtype Outcome: Sendable

    /// The last entry applied, as of the last `apply` (and after a restart, as persisted:
    /// the group redelivers every committed entry after it).
    var appliedIndex: UInt64 { get }

    /// Applies committed entries in index order; entries at or below `appliedIndex` are
    /// replays and change nothing. Returns an outcome for each entry applied now. A throw is
    /// a storage failure: the loop stops (the state machine can no longer be trusted).
    func apply(_ entries: [CommittedEntry]) throws -> [UInt64: Outcome]
}

extension Shard: ReplicatedStateMachine {
    // `appliedIndex` and `apply(_: [CommittedEntry]) -> [UInt64: [ApplyOutcome]]` are the shard's own.
}
