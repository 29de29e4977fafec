/// A message between two replicas of one group. Which fields matter depends on `kind`.
public struct Message: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: UInt8, Sendable, CaseIterable {
        /// Leader → follower: entries after (`index`, `logTerm`), and the leader's commit.
        case append = 1
        /// Follower → leader: accepted up to `index`, or (`reject`) a hint where logs diverge.
        case appendResponse = 2
        case vote = 3
        case voteResponse = 4
        /// A vote rehearsal that changes no term: a node that cannot win (stale log, or cut
        /// off and back) learns so without disrupting the current leader.
        case preVote = 5
        case preVoteResponse = 6
        /// Leader → follower whose next entry was compacted away: the whole state.
        case snapshot = 7
        case heartbeat = 8
        case heartbeatResponse = 9
        /// Leader → transfer target: campaign now, skipping the pre-vote.
        case timeoutNow = 10
        /// Follower → leader: confirm leadership and tell me the commit index (`context`).
        case readIndex = 11
        case readIndexResponse = 12
    }

    public var kind: Kind
    public var from: NodeID
    public var to: NodeID
    /// The sender's term; 0 on a forwarded read, which carries no term claim.
    public var term: Term
    public var logTerm: Term
    public var index: LogIndex
    public var entries: [Entry]
    public var commit: LogIndex
    public var reject: Bool
    /// On a rejected append: the follower's guess at where the leader should probe next.
    public var rejectHint: LogIndex
    /// A read's id (heartbeats and read messages), or 1 on a vote forced by a transfer.
    public var context: UInt64
    public var snapshot: Snapshot?
    /// On a heartbeat, the leader's tick count when it was sent; echoed in the response. A
    /// quorum's echoes tell the leader how long followers will refuse other candidates (its
    /// lease).
    public var leaderTick: UInt64
    /// On a heartbeat: the group is idle and every member holds the whole log; leader and
    /// followers stop ticking until something happens (`RaftConfig.quiesceAfterTicks`).
    public var quiesce: Bool

    public init(
        kind: Kind, from: NodeID, to: NodeID, term: Term, logTerm: Term = 0, index: LogIndex = 0,
        entries: [Entry] = [], commit: LogIndex = 0, reject: Bool = false, rejectHint: LogIndex = 0,
        context: UInt64 = 0, snapshot: Snapshot? = nil, leaderTick: UInt64 = 0, quiesce: Bool = false
    ) {
        self.kind = kind
        self.from = from
        self.to = to
        self.term = term
        self.logTerm = logTerm
        self.index = index
        self.entries = entries
        self.commit = commit
        self.reject = reject
        self.rejectHint = rejectHint
        self.context = context
        self.snapshot = snapshot
        self.leaderTick = leaderTick
        self.quiesce = quiesce
    }

    /// What the message costs on the wire, roughly: entries and snapshot data dominate.
    public var byteCount: Int { 64 + entries.byteCount + (snapshot?.data.count ?? 0) }

    public var description: String {
        var text = "\(kind) \(from)→\(to) t\(term)"
        switch kind {
        case .append:
            text += " prev \(index)@\(logTerm) commit \(commit)"
            if !entries.isEmpty { text += " [\(entries.first!.index)…\(entries.last!.index)]" }
        case .appendResponse:
            text += reject ? " reject \(index) hint \(rejectHint)@\(logTerm)" : " ok \(index)"
        case .vote, .preVote: text += " last \(index)@\(logTerm)\(context == forcedVoteContext ? " forced" : "")"
        case .voteResponse, .preVoteResponse: text += reject ? " rejected" : " granted"
        case .snapshot: text += " \(snapshot?.metadata.description ?? "-")"
        case .heartbeat: text += " commit \(commit) ctx \(context)\(quiesce ? " quiesce" : "")"
        case .heartbeatResponse, .readIndex: text += " ctx \(context)"
        case .readIndexResponse: text += " ctx \(context) index \(index)"
        case .timeoutNow: break
        }
        return text
    }
}

/// The `context` of a vote forced by a leadership transfer: voters in a leader's lease grant
/// it anyway, because the leader itself asked for the handover.
let forcedVoteContext: UInt64 = 1
