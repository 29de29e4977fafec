/// Raft consensus as a deterministic state machine (etcd-io/raft's design, our own code).
///
/// What this module owns: the protocol. Events go in (`RaftNode.tick`, `step`, `propose`,
/// `proposeConfChange`, `readIndex`, `transferLeadership`); a `Ready` batch comes out (state
/// and entries to persist, messages to send, committed entries to apply, a snapshot to
/// install, read states); the caller performs it and calls `advance`.
///
/// What it must not touch: disks, sockets, clocks, threads, global randomness. Time is a count
/// of `tick` calls; randomness comes from the generator the caller injects; storage is read
/// through `RaftStorage` and written only by the caller. That is what lets the simulator run
/// whole clusters deterministically from a seed.
public enum PeriscopeRaftModule {}
