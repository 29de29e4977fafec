import PeriscopeShard
import PeriscopeStorage

/// What a Raft group replicates into: a shard, or the node's catalog. Called only from the
/// `RaftLoop`'s thread, in log order.
public protocol ReplicatedStateMachine: AnyObject, Sendable {
    /// What applying one entry tells its proposer.
    associatedtype Outcome: Sendable & Codable

    /// The last entry applied, as of the last `apply` (and after a restart, as persisted:
    /// the group redelivers every committed entry after it).
    var appliedIndex: UInt64 { get }

    /// Applies committed entries in index order; entries at or below `appliedIndex` are
    /// replays and change nothing. Returns an outcome for each entry applied now. A throw is
    /// a storage failure: the loop stops (the state machine can no longer be trusted).
    func apply(_ entries: [CommittedEntry]) throws -> [UInt64: Outcome]

    /// Makes everything applied so far survive a machine crash and returns the applied
    /// index that now does. The group compacts its log only through such an index: the
    /// entries after it are what a restart must deliver again.
    func syncApplied() throws -> UInt64

    /// Freezes the applied state (cheaply: the files are written later, off the loop's
    /// thread) for a replica that needs a snapshot. Its applied index is the group's.
    func takeSnapshot() throws -> MachineSnapshot

    /// Replaces the whole state with a snapshot's `files` (in `directory`, made by another
    /// replica's `takeSnapshot`) and makes the applied index `index`. A throw is a storage
    /// failure, as for `apply`.
    func installSnapshot(files: [ExportedFile], in directory: String, at index: UInt64) throws
}

extension Shard: ReplicatedStateMachine {
    // `appliedIndex`, `apply(_: [CommittedEntry]) -> [UInt64: [ApplyOutcome]]`,
    // `syncApplied()`, `takeSnapshot()` and `installSnapshot` are the shard's own.
}
