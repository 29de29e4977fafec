/// A replica's identity inside a Raft group. 0 means "none" and is never a member.
public typealias NodeID = UInt64
/// A Raft term: a period with at most one leader.
public typealias Term = UInt64
/// A position in the replicated log, from 1.
public typealias LogIndex = UInt64

/// The "no node" value of `NodeID` (no vote cast, no leader known).
public let noNode: NodeID = 0
