/// A Periscope node: the processes users run. It hosts shard replicas, each the state
/// machine of its own Raft group, drives every group on the node from one loop that
/// persists all their Readies with one fsync (group commit), applies committed entries to
/// the shards, and (next) serves the visibility and admin services over HTTP/2.
///
/// `Replication/` is the write path below the API: `RaftLoop` (the thread that drives the
/// groups), `ReplicaGroup` (one group and its state machine), `ReplicatedStateMachine`.
