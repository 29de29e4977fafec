/// A replica's role.
public enum Role: String, Sendable, Hashable {
    case follower, preCandidate, candidate, leader
}

/// What a replica believes about leadership; not persisted.
public struct SoftState: Sendable, Hashable {
    public var leader: NodeID
    public var role: Role
}

/// The answer to a `readIndex` request: reads that see everything committed up to `index`
/// are linearizable once the state machine has applied `index`.
public struct ReadState: Sendable, Hashable {
    public var requestID: UInt64
    public var index: LogIndex
}

/// One batch of work for the caller, in this order:
/// 1. send `messages` (they may go out before the local fsync: they promise nothing about
///    this replica's disk);
/// 2. persist `snapshot`, `entries` and `hardState` together, with one fsync;
/// 3. send `messagesAfterPersist` (acknowledgements and votes that the disk must back);
/// 4. install `snapshot` into the state machine, then apply `committedEntries` in order;
/// 5. call `RaftNode.advance(self)`.
public struct Ready: Sendable {
    public var softState: SoftState?
    public var hardState: HardState?
    public var snapshot: Snapshot?
    public var entries: [Entry]
    public var committedEntries: [Entry]
    public var messages: [Message]
    public var messagesAfterPersist: [Message]
    public var readStates: [ReadState]

    /// Whether step 2 must fsync: entries, a snapshot, or a new term or vote. A change of the
    /// commit index alone may be written without one: after a crash a replica re-learns its
    /// commit index from the leader, and an older one is never unsafe.
    public var mustSync: Bool

    public init(softState: SoftState? = nil, hardState: HardState? = nil, snapshot: Snapshot? = nil, entries: [Entry] = [],
                committedEntries: [Entry] = [], messages: [Message] = [], messagesAfterPersist: [Message] = [],
                readStates: [ReadState] = [], mustSync: Bool? = nil) {
        self.softState = softState
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
        self.committedEntries = committedEntries
        self.messages = messages
        self.messagesAfterPersist = messagesAfterPersist
        self.readStates = readStates
        self.mustSync = mustSync ?? (!entries.isEmpty || snapshot != nil || hardState != nil)
    }

    /// Whether step 2 has anything to write at all.
    public var needsPersist: Bool { hardState != nil || snapshot != nil || !entries.isEmpty }
}

/// A replica's view of itself (and, on a leader, of its followers).
public struct Status: Sendable {
    public struct FollowerProgress: Sendable, Hashable {
        public var match: LogIndex
        public var next: LogIndex
        public var state: ProgressState
        public var isLearner: Bool
    }

    public var id: NodeID
    public var hardState: HardState
    public var softState: SoftState
    public var appliedIndex: LogIndex
    public var firstIndex: LogIndex
    public var lastIndex: LogIndex
    public var confState: ConfState
    public var leadTransferee: NodeID?
    /// Filled on a leader only.
    public var progress: [NodeID: FollowerProgress]
}
