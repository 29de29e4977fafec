/// Requests from the application: proposals, membership changes, leadership transfer, reads.
extension Raft {
    func propose(_ data: [UInt8], kind: Entry.Kind = .normal) throws(RaftError) -> Entry {
        try requireLeaderAcceptingProposals()
        guard data.count <= config.proposalBytesMax else {
            throw .proposalTooLarge(bytes: data.count, limit: config.proposalBytesMax)
        }
        let entry = Entry(term: term, index: log.lastIndex + 1, kind: kind, data: data)
        // One proposal always fits, however large, so a big entry is not refused forever.
        if uncommittedBytes > 0 && uncommittedBytes + entry.byteCount > config.uncommittedBytesMax {
            throw .uncommittedLimitReached(bytes: uncommittedBytes, limit: config.uncommittedBytesMax)
        }
        uncommittedBytes += entry.byteCount
        log.append([entry])
        needsBroadcast = true
        return entry
    }

    func proposeConfChange(_ change: ConfChange) throws(RaftError) -> Entry {
        try requireLeaderAcceptingProposals()
        if pendingConfIndex > log.applied { throw .confChangePending(index: pendingConfIndex) }
        try validate(change)
        let entry = try propose(change.encoded(), kind: .confChange)
        pendingConfIndex = entry.index
        return entry
    }

    private func validate(_ change: ConfChange) throws(RaftError) {
        let current = tracker.config
        switch change.kind {
        case .addVoter where current.voters.contains(change.node):
            throw .invalidConfChange("node \(change.node) is already a voter")
        case .addLearner where current.learners.contains(change.node):
            throw .invalidConfChange("node \(change.node) is already a learner")
        case .removeNode where !current.members.contains(change.node):
            throw .invalidConfChange("node \(change.node) is not a member")
        default:
            break
        }
        if current.applying(change).voters.isEmpty {
            throw .invalidConfChange("the change would leave the group with no voter")
        }
    }

    private func requireLeaderAcceptingProposals() throws(RaftError) {
        guard role == .leader else { throw .notLeader(leader: knownLeader) }
        guard leadTransferee == noNode else { throw .transferInProgress(to: leadTransferee) }
    }

    func transferLeadership(to target: NodeID) throws(RaftError) {
        guard role == .leader else { throw .notLeader(leader: knownLeader) }
        guard tracker.config.voters.contains(target) else { throw .invalidTransferTarget(target) }
        guard target != id, target != leadTransferee else { return }
        // The transfer has one election timeout to finish; proposals wait meanwhile.
        electionElapsed = 0
        leadTransferee = target
        if tracker.progress[target]!.match == log.lastIndex {
            sendTimeoutNow(to: target)
        } else {
            sendAppend(to: target)
        }
    }

    /// Asks for a read index: a `ReadState` with `requestID` comes out in a later Ready.
    func readIndex(requestID: UInt64) throws(RaftError) {
        if role == .leader {
            handleReadRequest(requestID: requestID, requester: id)
            return
        }
        guard leader != noNode else { throw .notLeader(leader: nil) }
        // Forwarded with term 0: a read claims no term, so it cannot disturb anyone.
        send(.readIndex, to: leader, term: 0, context: requestID)
    }

    func handleReadRequest(requestID: UInt64, requester: NodeID) {
        if tracker.config.voters == [id] {
            answerRead(requestID: requestID, requester: requester, index: log.committed)
            return
        }
        guard hasCommittedInCurrentTerm else {
            if readsAwaitingFirstCommit.count < Self.pendingReadsMax {
                readsAwaitingFirstCommit.append((requestID, requester))
            }
            return
        }
        switch config.readMode {
        case .leaseBased where holdsLease:
            answerRead(requestID: requestID, requester: requester, index: log.committed)
        case .leaseBased, .quorumConfirmed:
            guard !readQueue.isFull else { return }  // the requester times out and retries
            let sequence = readQueue.add(requestID: requestID, requester: requester, index: log.committed, selfID: id)
            broadcastHeartbeat(context: sequence)
        }
    }

    func answerRead(requestID: UInt64, requester: NodeID, index: LogIndex) {
        if requester == id {
            readStates.append(ReadState(requestID: requestID, index: index))
        } else {
            send(.readIndexResponse, to: requester, index: index, context: requestID)
        }
    }

    func releaseReadsAwaitingFirstCommit() {
        guard !readsAwaitingFirstCommit.isEmpty, hasCommittedInCurrentTerm else { return }
        let waiting = readsAwaitingFirstCommit
        readsAwaitingFirstCommit = []
        for read in waiting { handleReadRequest(requestID: read.requestID, requester: read.requester) }
    }
}
