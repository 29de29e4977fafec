/// The leader's bookkeeping for every member, and the vote tally of an election. Members are
/// always visited in id order so that runs replay exactly.
struct ProgressTracker {
    private(set) var config: ConfState
    var progress: [NodeID: Progress] = [:]
    private var votes: [NodeID: Bool] = [:]
    let inflightCapacity: Int

    init(config: ConfState, inflightCapacity: Int) {
        self.config = config
        self.inflightCapacity = inflightCapacity
    }

    var memberIDs: [NodeID] { config.members.sorted() }
    var voterIDs: [NodeID] { config.voters.sorted() }
    var quorum: Int { config.voters.count / 2 + 1 }

    mutating func setConfig(_ new: ConfState, nextIndex: LogIndex) {
        config = new
        for id in new.members where progress[id] == nil {
            progress[id] = Progress(next: nextIndex, inflightCapacity: inflightCapacity, isLearner: false)
        }
        for id in Array(progress.keys) where !new.members.contains(id) { progress[id] = nil }
        for id in new.members { progress[id]!.isLearner = new.learners.contains(id) }
    }

    mutating func resetProgress(nextIndex: LogIndex, selfID: NodeID, selfMatch: LogIndex) {
        for id in memberIDs {
            var fresh = Progress(next: nextIndex, inflightCapacity: inflightCapacity, isLearner: config.learners.contains(id))
            if id == selfID { fresh.match = selfMatch }
            progress[id] = fresh
        }
    }

    /// The highest index stored on a quorum of voters.
    var committedIndex: LogIndex {
        let matches = voterIDs.map { progress[$0]?.match ?? 0 }.sorted(by: >)
        guard !matches.isEmpty else { return 0 }
        return matches[quorum - 1]
    }

    /// The latest leader tick that a quorum has acknowledged a heartbeat from (the leader
    /// counts as acknowledging `now`); 0 if no quorum has.
    func quorumAcknowledgedTick(selfID: NodeID, now: UInt64) -> UInt64 {
        let ticks = voterIDs.map { $0 == selfID ? now : progress[$0]?.leaseAcknowledgedTick ?? 0 }.sorted(by: >)
        return ticks.isEmpty ? 0 : ticks[quorum - 1]
    }

    /// Whether a quorum of voters was heard from since the last check (the leader counts).
    func quorumActive(selfID: NodeID) -> Bool {
        voterIDs.filter { $0 == selfID || progress[$0]?.recentActive == true }.count >= quorum
    }

    // MARK: Elections

    enum VoteResult { case won, lost, pending }

    mutating func resetVotes() { votes = [:] }

    mutating func recordVote(from id: NodeID, granted: Bool) {
        if votes[id] == nil { votes[id] = granted }
    }

    var tally: VoteResult {
        let granted = voterIDs.filter { votes[$0] == true }.count
        let rejected = voterIDs.filter { votes[$0] == false }.count
        if granted >= quorum { return .won }
        if rejected > config.voters.count - quorum { return .lost }
        return .pending
    }
}
