/// One replica's protocol state. Internal: `RaftNode` is the public face, adding the
/// Ready/advance bookkeeping. Every method runs to completion without I/O.
final class Raft {
    let id: NodeID
    let config: RaftConfig
    var term: Term = 0
    var vote: NodeID = noNode
    var role: Role = .follower
    var leader: NodeID = noNode
    var log: RaftLog
    var tracker: ProgressTracker

    /// Outgoing messages that promise nothing about this replica's disk.
    var messages: [Message] = []
    /// Acknowledgements and votes: they go out only once this Ready is persisted.
    var messagesAfterPersist: [Message] = []
    var readStates: [ReadState] = []

    var electionElapsed = 0
    /// Ticks since this replica started: the clock of its lease.
    var ticksSinceStart: UInt64 = 0
    var heartbeatElapsed = 0
    var randomizedElectionTimeout = 0
    var leadTransferee: NodeID = noNode
    /// The index of the last membership change this leader appended (or its first entry):
    /// no other change is accepted until it has been applied.
    var pendingConfIndex: LogIndex = 0
    var uncommittedBytes = 0
    /// Proposals appended since the last broadcast: one append per follower carries them all.
    var needsBroadcast = false
    var readQueue: ReadIndexQueue
    /// Set once this leader sent TimeoutNow: the target's forced votes ignore leases, so from
    /// then on this term's reads must be confirmed by a quorum, never by the lease.
    var leaseForfeited = false
    /// Reads that arrived before this leader committed an entry of its own term: until then
    /// its commit index may be behind the previous leader's.
    var readsAwaitingFirstCommit: [(requestID: UInt64, requester: NodeID)] = []
    /// The group is idle and this replica does not tick (`RaftConfig.quiesceAfterTicks`).
    var isQuiesced = false
    /// On a leader: ticks since anything but heartbeats happened.
    var idleTicks = 0
    private var random: any RandomNumberGenerator

    static let pendingReadsMax = 4096

    init(config: RaftConfig, storage: any RaftStorage, random: any RandomNumberGenerator) {
        config.validate()
        id = config.id
        self.config = config
        self.random = random
        log = RaftLog(storage: storage)
        readQueue = ReadIndexQueue(capacity: Self.pendingReadsMax)
        let (hardState, confState) = storage.initialState()
        tracker = ProgressTracker(config: confState, inflightCapacity: config.inflightMessagesMax)
        tracker.setConfig(confState, nextIndex: log.lastIndex + 1)
        if hardState != HardState() { load(hardState) }
        if config.appliedIndex > log.applied { skipAlreadyApplied(through: config.appliedIndex) }
        becomeFollower(term: term, leader: noNode)
    }

    private func load(_ state: HardState) {
        precondition(state.commit >= log.committed && state.commit <= log.lastIndex,
                     "node \(id): persisted commit \(state.commit) outside the log [\(log.committed), \(log.lastIndex)]")
        log.committed = state.commit
        term = state.term
        vote = state.vote
    }

    /// The application already applied entries past the snapshot: do not deliver them again,
    /// but replay their membership changes, which the snapshot's membership predates.
    private func skipAlreadyApplied(through index: LogIndex) {
        let through = min(index, log.committed)
        guard through > log.applied else { return }
        let entries = (try? log.slice(from: log.applied + 1, to: through + 1, bytesMax: .max)) ?? []
        for entry in entries where entry.kind == .confChange {
            if let change = ConfChange(encoded: entry.data) { applyConfChange(change) }
        }
        log.appliedTo(through)
    }

    var softState: SoftState { SoftState(leader: leader, role: role) }
    /// The leader this replica follows, if it knows one.
    var knownLeader: NodeID? { leader == noNode ? nil : leader }
    /// Whether the commit index holds an entry of this term: for a new leader, that its
    /// commit index has caught up with every earlier leader's.
    var hasCommittedInCurrentTerm: Bool { (try? log.term(at: log.committed)) == term }
    var hardState: HardState { HardState(term: term, vote: vote, commit: log.committed) }

    /// A voter with its membership up to date can lead. Learners, removed replicas, and a
    /// replica still applying a committed membership change or installing a snapshot cannot.
    var isPromotable: Bool {
        tracker.config.voters.contains(id) && !log.hasPendingSnapshot && !hasUnappliedConfChanges
    }

    private var hasUnappliedConfChanges: Bool {
        guard log.committed > log.applied else { return false }
        let low = max(log.applied + 1, log.firstIndex)
        guard let entries = try? log.slice(from: low, to: log.committed + 1, bytesMax: .max) else { return false }
        return entries.contains { $0.kind == .confChange }
    }

    // MARK: Role changes

    func becomeFollower(term: Term, leader: NodeID) {
        reset(term: term)
        self.leader = leader
        role = .follower
    }

    func becomePreCandidate() {
        precondition(role != .leader, "node \(id): a leader cannot become a pre-candidate")
        // A pre-candidate keeps its term and vote: the rehearsal changes nothing durable.
        tracker.resetVotes()
        leader = noNode
        role = .preCandidate
    }

    func becomeCandidate() {
        precondition(role != .leader, "node \(id): a leader cannot become a candidate")
        reset(term: term + 1)
        vote = id
        role = .candidate
    }

    func becomeLeader() {
        precondition(role == .candidate, "node \(id): only a candidate becomes leader (was \(role))")
        reset(term: term)
        leader = id
        role = .leader
        tracker.progress[id]?.becomeReplicate()
        // No membership change until this empty entry of the new term is applied: that is
        // the known fix for single-server changes across leader changes (Ongaro, 2015).
        log.append([Entry(term: term, index: log.lastIndex + 1)])
        pendingConfIndex = log.lastIndex
        needsBroadcast = true
    }

    private func reset(term newTerm: Term) {
        if term != newTerm {
            term = newTerm
            vote = noNode
        }
        leader = noNode
        electionElapsed = 0
        heartbeatElapsed = 0
        randomizedElectionTimeout = config.electionTicks + Int(random.next() % UInt64(config.electionTicks))
        leadTransferee = noNode
        leaseForfeited = false
        isQuiesced = false
        idleTicks = 0
        tracker.resetVotes()
        tracker.resetProgress(nextIndex: log.lastIndex + 1, selfID: id, selfMatch: log.persistedLastIndex)
        pendingConfIndex = 0
        uncommittedBytes = 0
        needsBroadcast = false
        readQueue.reset()
        readsAwaitingFirstCommit = []
    }

    // MARK: Sending

    func send(_ kind: Message.Kind, to: NodeID, term: Term? = nil, logTerm: Term = 0, index: LogIndex = 0,
              entries: [Entry] = [], commit: LogIndex = 0, reject: Bool = false, rejectHint: LogIndex = 0,
              context: UInt64 = 0, snapshot: Snapshot? = nil, leaderTick: UInt64 = 0, quiesce: Bool = false) {
        let message = Message(kind: kind, from: id, to: to, term: term ?? self.term, logTerm: logTerm, index: index,
                              entries: entries, commit: commit, reject: reject, rejectHint: rejectHint,
                              context: context, snapshot: snapshot, leaderTick: leaderTick, quiesce: quiesce)
        switch kind {
        case .appendResponse, .voteResponse: messagesAfterPersist.append(message)
        default: messages.append(message)
        }
    }

    /// Something happened (or the owner lost touch with a member): tick again, from a whole
    /// election timeout, and count idleness anew.
    func wake() {
        idleTicks = 0
        guard isQuiesced else { return }
        isQuiesced = false
        electionElapsed = 0
        heartbeatElapsed = 0
    }

    func sendTimeoutNow(to target: NodeID) {
        leaseForfeited = true
        send(.timeoutNow, to: target)
    }

    // MARK: Membership

    func applyConfChange(_ change: ConfChange) {
        let next = tracker.config.applying(change)
        tracker.setConfig(next, nextIndex: log.lastIndex + 1)
        guard role == .leader else { return }
        if !next.voters.contains(id) {
            handOverBeforeLeaving()
            becomeFollower(term: term, leader: noNode)
            return
        }
        if leadTransferee != noNode && !next.voters.contains(leadTransferee) { leadTransferee = noNode }
        // The quorum changed: entries may commit now, and new members need probing.
        if maybeCommit() { broadcastAppend() } else {
            for member in tracker.memberIDs where member != id { _ = maybeSendAppend(to: member, sendIfEmpty: false) }
        }
    }

    /// A leader removing itself asks the most up-to-date voter to campaign at once, so the
    /// group does not sit out an election timeout.
    private func handOverBeforeLeaving() {
        let upToDate = tracker.voterIDs.filter { $0 != id && tracker.progress[$0]?.match == log.lastIndex }
        if let successor = upToDate.first { sendTimeoutNow(to: successor) }
    }
}
