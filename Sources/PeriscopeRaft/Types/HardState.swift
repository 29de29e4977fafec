/// What a replica must persist before it answers anyone: its term, its vote in that term and
/// the highest index it knows to be committed.
public struct HardState: Sendable, Hashable, CustomStringConvertible {
    public var term: Term
    public var vote: NodeID
    public var commit: LogIndex

    public init(term: Term = 0, vote: NodeID = noNode, commit: LogIndex = 0) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }

    public var description: String { "term \(term) vote \(vote) commit \(commit)" }
}

/// Where a snapshot sits in the log and the membership it carries.
public struct SnapshotMetadata: Sendable, Hashable, CustomStringConvertible {
    public var index: LogIndex
    public var term: Term
    public var confState: ConfState

    public init(index: LogIndex = 0, term: Term = 0, confState: ConfState = ConfState()) {
        self.index = index
        self.term = term
        self.confState = confState
    }

    public var description: String { "snapshot \(index)@\(term) \(confState)" }
}

/// The state machine as of `metadata.index`: what replaces the log before it.
public struct Snapshot: Sendable, Hashable {
    public var metadata: SnapshotMetadata
    public var data: [UInt8]

    public init(metadata: SnapshotMetadata = SnapshotMetadata(), data: [UInt8] = []) {
        self.metadata = metadata
        self.data = data
    }

    public var isEmpty: Bool { metadata.index == 0 }
}
