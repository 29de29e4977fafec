/// Reads waiting for a heartbeat round to confirm the leader still leads. Each gets a
/// sequence number the heartbeats carry; a quorum acknowledging number n confirms every read
/// up to n (they were all registered before that heartbeat went out).
struct ReadIndexQueue {
    struct Pending {
        var sequence: UInt64
        var requestID: UInt64
        /// Who asked: this leader, or a follower that forwarded the read.
        var requester: NodeID
        var index: LogIndex
        var acknowledged: Set<NodeID>
    }

    private(set) var pending: [Pending] = []
    private var nextSequence: UInt64 = 1
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    var isFull: Bool { pending.count >= capacity }
    var lastSequence: UInt64? { pending.last?.sequence }

    mutating func add(requestID: UInt64, requester: NodeID, index: LogIndex, selfID: NodeID) -> UInt64 {
        let sequence = nextSequence
        nextSequence += 1
        pending.append(Pending(sequence: sequence, requestID: requestID, requester: requester, index: index, acknowledged: [selfID]))
        return sequence
    }

    /// Records `voter`'s heartbeat acknowledgement of `sequence`; returns the reads a quorum
    /// has now confirmed (in order), removing them.
    mutating func acknowledge(sequence: UInt64, from voter: NodeID, isQuorum: (Set<NodeID>) -> Bool) -> [Pending] {
        guard let position = pending.firstIndex(where: { $0.sequence == sequence }) else { return [] }
        pending[position].acknowledged.insert(voter)
        guard isQuorum(pending[position].acknowledged) else { return [] }
        let confirmed = Array(pending[...position])
        pending.removeFirst(position + 1)
        return confirmed
    }

    mutating func reset() { pending = [] }
}
