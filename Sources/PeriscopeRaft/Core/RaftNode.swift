/// One replica of one Raft group: the public, deterministic core.
///
/// Not thread-safe and never blocking: its owner (a shell) calls it from one place, performs
/// each `Ready` and calls `advance`. Between `ready()` and `advance(_:)` the owner may keep
/// stepping messages, but must not take another `Ready`.
public final class RaftNode {
    private let raft: Raft
    private var lastSoftState: SoftState
    private var lastHardState: HardState
    private var readyInFlight = false
    /// Committed entries handed out per Ready are cut at this size.
    public let applyBatchBytesMax: Int

    /// Starts (or restarts) a replica from what `storage` holds. `random` draws election
    /// timeouts; inject a seeded generator to replay a run exactly.
    public init(config: RaftConfig, storage: any RaftStorage, random: any RandomNumberGenerator, applyBatchBytesMax: Int = 16 << 20) {
        raft = Raft(config: config, storage: storage, random: random)
        lastSoftState = raft.softState
        lastHardState = storage.initialState().0
        self.applyBatchBytesMax = applyBatchBytesMax
    }

    public var id: NodeID { raft.id }
    public var role: Role { raft.role }
    public var term: Term { raft.term }
    /// The leader this replica follows, if it knows one.
    public var leader: NodeID? { raft.knownLeader }
    /// The membership as of the applied index: what to record in a snapshot taken now.
    public var confState: ConfState { raft.tracker.config }
    public var appliedIndex: LogIndex { raft.log.applied }
    /// The index of a snapshot received from the leader and not yet handed out in a Ready.
    public var pendingSnapshotIndex: LogIndex? { raft.log.unstable.snapshot?.metadata.index }
    /// The term of the entry at `index`, if the log still holds it (or its compaction point).
    public func term(at index: LogIndex) -> Term? { try? raft.log.term(at: index) }
    public var committedIndex: LogIndex { raft.log.committed }

    // MARK: Events in

    /// One unit of logical time. Election and heartbeat timeouts count these.
    public func tick() { raft.tick() }

    /// A message from another replica. Messages for someone else, or from an older term,
    /// are dropped (answered where that helps the sender catch up).
    public func step(_ message: Message) { raft.step(message) }

    /// Campaign now instead of waiting for the election timeout (bootstrapping, tests).
    public func campaign() {
        raft.wake()
        raft.startElection(forcedByTransfer: false)
    }

    /// Whether this replica stopped ticking because its group is idle.
    public var isQuiesced: Bool { raft.isQuiesced }

    /// Tick again: the owner lost touch with a member of the group (its leader may be gone).
    public func wake() { raft.wake() }

    /// Appends `data` on the leader. The returned entry's (index, term) identifies it: it is
    /// committed once an applied entry at that index has that term; any other term at that
    /// index means it was lost to a leader change and may be retried.
    @discardableResult
    public func propose(_ data: [UInt8]) throws(RaftError) -> Entry {
        raft.wake()
        return try raft.propose(data)
    }

    /// Proposes one membership change. At most one is pending at a time.
    @discardableResult
    public func proposeConfChange(_ change: ConfChange) throws(RaftError) -> Entry {
        raft.wake()
        return try raft.proposeConfChange(change)
    }

    /// Asks for a linearizable read index; the answer is a `ReadState` in a later Ready (on a
    /// follower, once the leader confirms). Unanswered requests were dropped (leader change,
    /// lost messages): retry after a timeout.
    public func readIndex(requestID: UInt64) throws(RaftError) {
        raft.wake()
        try raft.readIndex(requestID: requestID)
    }

    /// Hands leadership to `target` once its log is caught up (within one election timeout).
    public func transferLeadership(to target: NodeID) throws(RaftError) {
        raft.wake()
        try raft.transferLeadership(to: target)
    }

    public func reportSnapshot(to follower: NodeID, delivered: Bool) { raft.reportSnapshot(to: follower, delivered: delivered) }
    public func reportUnreachable(_ follower: NodeID) { raft.reportUnreachable(follower) }

    // MARK: Work out

    public var hasReady: Bool {
        guard !readyInFlight else { return false }
        let log = raft.log
        return raft.softState != lastSoftState
            || raft.hardState != lastHardState
            || log.unstable.snapshot != nil
            || !log.unstable.entries.isEmpty
            || !raft.messages.isEmpty
            || !raft.messagesAfterPersist.isEmpty
            || !raft.readStates.isEmpty
            || raft.needsBroadcast
            || log.hasNextCommittedEntries
    }

    /// The work accumulated since the last `advance`. Call `advance` once it is done.
    public func ready() -> Ready {
        precondition(!readyInFlight, "node \(id): ready() called again before advance()")
        if raft.needsBroadcast { raft.broadcastAppend() }
        let softState = raft.softState
        let hardState = raft.hardState
        let ready = Ready(
            softState: softState != lastSoftState ? softState : nil,
            hardState: hardState != lastHardState ? hardState : nil,
            snapshot: raft.log.unstable.snapshot,
            entries: raft.log.unstable.entries,
            committedEntries: raft.log.nextCommittedEntries(bytesMax: applyBatchBytesMax),
            messages: raft.messages,
            messagesAfterPersist: raft.messagesAfterPersist,
            readStates: raft.readStates,
            mustSync: !raft.log.unstable.entries.isEmpty || raft.log.unstable.snapshot != nil
                || hardState.term != lastHardState.term || hardState.vote != lastHardState.vote
        )
        raft.messages = []
        raft.messagesAfterPersist = []
        raft.readStates = []
        lastSoftState = softState
        if let hardState = ready.hardState { lastHardState = hardState }
        readyInFlight = true
        return ready
    }

    /// The caller persisted and applied `ready`.
    public func advance(_ ready: Ready) {
        precondition(readyInFlight, "node \(id): advance() without a ready()")
        readyInFlight = false
        if let snapshot = ready.snapshot {
            raft.log.unstable.stableSnapshotTo(index: snapshot.metadata.index)
            raft.log.appliedTo(snapshot.metadata.index)
        }
        if let last = ready.entries.last { raft.log.unstable.stableTo(index: last.index, term: last.term) }
        if let last = ready.committedEntries.last {
            for entry in ready.committedEntries where entry.kind == .confChange {
                guard let change = ConfChange(encoded: entry.data) else {
                    preconditionFailure("node \(id): undecodable membership change at \(entry)")
                }
                raft.applyConfChange(change)
            }
            raft.log.appliedTo(last.index)
            raft.uncommittedBytes = max(0, raft.uncommittedBytes - ready.committedEntries.byteCount)
        }
        // A leader counts itself toward a commit only for entries on its own disk.
        if raft.role == .leader, raft.tracker.progress[id]?.maybeUpdate(raft.log.persistedLastIndex) == true {
            if raft.maybeCommit() { raft.broadcastAppend() }
        }
    }

    public var status: Status {
        var progress: [NodeID: Status.FollowerProgress] = [:]
        if raft.role == .leader {
            for (member, state) in raft.tracker.progress {
                progress[member] = .init(match: state.match, next: state.next, state: state.state, isLearner: state.isLearner)
            }
        }
        return Status(
            id: id, hardState: raft.hardState, softState: raft.softState, appliedIndex: raft.log.applied,
            firstIndex: raft.log.firstIndex, lastIndex: raft.log.lastIndex, confState: raft.tracker.config,
            leadTransferee: raft.leadTransferee == noNode ? nil : raft.leadTransferee, progress: progress
        )
    }
}
