/// How a replica behaves. Every limit is named with its unit last.
public struct RaftConfig: Sendable {
    public enum ReadMode: Sendable, Hashable {
        /// ReadIndex confirmed by a heartbeat round to a quorum: safe under any clock.
        case quorumConfirmed
        /// ReadIndex answered from the leader's lease, without a round trip, while one is
        /// held; otherwise confirmed as above. Needs `checkQuorum`. A follower refuses other
        /// candidates for `electionTicks` of its own ticks after a heartbeat; the leader
        /// trusts that for only `electionTicks - leaseMarginTicks` of its ticks from when
        /// it sent the heartbeat. Safe while no follower's clock runs faster than the
        /// leader's by more than that margin per election timeout (the drift bound).
        case leaseBased
    }

    public var id: NodeID
    /// Followers wait at least this many ticks without hearing a leader before campaigning;
    /// the actual timeout is drawn from [electionTicks, 2 × electionTicks).
    public var electionTicks: Int
    public var heartbeatTicks: Int
    public var preVote: Bool
    public var checkQuorum: Bool
    public var readMode: ReadMode
    /// Ticks the lease gives up for clock drift (lease-based reads only).
    public var leaseMarginTicks: Int
    /// Entries per append message are cut at this size (one entry always goes).
    public var messageBytesMax: Int
    /// Append messages in flight per follower before the leader waits for acknowledgements.
    public var inflightMessagesMax: Int
    public var proposalBytesMax: Int
    /// Bytes a leader accepts into its log beyond its commit index before refusing proposals.
    public var uncommittedBytesMax: Int
    /// The index the application has already applied when the replica starts (0: from the
    /// snapshot). Committed entries after it are delivered again.
    public var appliedIndex: LogIndex
    /// A leader whose group has been idle this many ticks, with every member holding its
    /// whole log, tells the followers so and all of them stop ticking: an idle group sends
    /// nothing. Any message, proposal or read wakes it; the owner wakes a group whose leader
    /// (or any member) it finds unreachable, so a dead leader is still replaced. 0: never.
    /// Quorum-confirmed reads only (a lease needs heartbeats).
    public var quiesceAfterTicks: Int

    public init(
        id: NodeID, electionTicks: Int = 10, heartbeatTicks: Int = 1, preVote: Bool = true,
        checkQuorum: Bool = true, readMode: ReadMode = .quorumConfirmed, leaseMarginTicks: Int = 2,
        messageBytesMax: Int = 1 << 20, inflightMessagesMax: Int = 256,
        proposalBytesMax: Int = 1 << 20, uncommittedBytesMax: Int = 64 << 20, appliedIndex: LogIndex = 0,
        quiesceAfterTicks: Int = 0
    ) {
        self.id = id
        self.electionTicks = electionTicks
        self.heartbeatTicks = heartbeatTicks
        self.preVote = preVote
        self.checkQuorum = checkQuorum
        self.readMode = readMode
        self.leaseMarginTicks = leaseMarginTicks
        self.messageBytesMax = messageBytesMax
        self.inflightMessagesMax = inflightMessagesMax
        self.proposalBytesMax = proposalBytesMax
        self.uncommittedBytesMax = uncommittedBytesMax
        self.appliedIndex = appliedIndex
        self.quiesceAfterTicks = quiesceAfterTicks
    }

    func validate() {
        precondition(id != noNode, "a Raft replica needs a nonzero id")
        precondition(heartbeatTicks > 0 && electionTicks > heartbeatTicks,
                     "electionTicks (\(electionTicks)) must exceed heartbeatTicks (\(heartbeatTicks)) > 0")
        precondition(inflightMessagesMax > 0 && messageBytesMax > 0 && proposalBytesMax > 0 && uncommittedBytesMax > 0,
                     "Raft limits must be positive")
        precondition(readMode != .leaseBased || checkQuorum, "lease-based reads need checkQuorum")
        precondition(quiesceAfterTicks == 0 || (readMode == .quorumConfirmed && quiesceAfterTicks > electionTicks),
                     "quiescence needs quorum-confirmed reads and more than an election timeout of idle ticks")
        precondition(leaseMarginTicks >= 0 && leaseMarginTicks < electionTicks, "leaseMarginTicks must be in [0, electionTicks)")
    }
}
