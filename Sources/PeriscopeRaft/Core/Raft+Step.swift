/// Time, elections and the dispatch of incoming messages.
extension Raft {
    func tick() {
        ticksSinceStart += 1
        guard !isQuiesced else { return }
        if role == .leader { tickLeader() } else { tickElection() }
    }

    private func tickElection() {
        electionElapsed += 1
        // The timeout first: promotability may scan the unapplied log.
        guard electionElapsed >= randomizedElectionTimeout, isPromotable else { return }
        electionElapsed = 0
        startElection(forcedByTransfer: false)
    }

    private func tickLeader() {
        heartbeatElapsed += 1
        electionElapsed += 1
        if electionElapsed >= config.electionTicks {
            electionElapsed = 0
            if config.checkQuorum {
                // A leader cut off from a quorum steps down instead of serving stale reads
                // and collecting proposals that cannot commit.
                guard tracker.quorumActive(selfID: id) else {
                    becomeFollower(term: term, leader: noNode)
                    return
                }
                for member in tracker.memberIDs where member != id { tracker.progress[member]?.recentActive = false }
            }
            // A transfer that did not finish within an election timeout is abandoned.
            leadTransferee = noNode
        }
        idleTicks += 1
        if config.quiesceAfterTicks > 0, idleTicks >= config.quiesceAfterTicks, canQuiesce {
            quiesce()
            return
        }
        if heartbeatElapsed >= config.heartbeatTicks {
            heartbeatElapsed = 0
            broadcastHeartbeat(context: readQueue.lastSequence ?? 0)
        }
    }

    /// Starts a pre-vote (or, when a transfer forces it or pre-vote is off, a real election).
    func startElection(forcedByTransfer: Bool) {
        guard role != .leader, isPromotable else { return }
        if config.preVote && !forcedByTransfer {
            campaign(preVote: true, forced: false)
        } else {
            campaign(preVote: false, forced: forcedByTransfer)
        }
    }

    private func campaign(preVote: Bool, forced: Bool) {
        let voteTerm: Term
        if preVote {
            becomePreCandidate()
            voteTerm = term + 1
        } else {
            becomeCandidate()
            voteTerm = term
        }
        tracker.recordVote(from: id, granted: true)
        if tracker.tally == .won {
            // A group of one: nothing to ask.
            if preVote { campaign(preVote: false, forced: forced) } else { becomeLeader() }
            return
        }
        for voter in tracker.voterIDs where voter != id {
            send(preVote ? .preVote : .vote, to: voter, term: voteTerm, logTerm: log.lastTerm, index: log.lastIndex,
                 context: forced ? forcedVoteContext : 0)
        }
    }

    // MARK: Incoming messages

    func step(_ message: Message) {
        guard message.to == id, message.from != id, message.from != noNode else { return }
        // Heartbeats, and the answers to them, are what an idle group exchanges; anything
        // else is activity (a preVote too: a restarted member must learn who leads).
        let isHeartbeat = message.kind == .heartbeat || message.kind == .heartbeatResponse
        if !isHeartbeat {
            wake()
        } else if message.kind == .heartbeat, !message.quiesce, isQuiesced {
            wake()
        }
        if message.term > term {
            guard acceptHigherTerm(message) else { return }
        } else if message.term < term, message.term != 0 {
            answerStaleTerm(message)
            return
        }
        switch message.kind {
        case .vote, .preVote: handleVoteRequest(message)
        default:
            switch role {
            case .leader: stepLeader(message)
            case .candidate, .preCandidate: stepCandidate(message)
            case .follower: stepFollower(message)
            }
        }
    }

    /// A message from a higher term: usually we follow it; returns false to ignore it.
    private func acceptHigherTerm(_ message: Message) -> Bool {
        if message.kind == .vote || message.kind == .preVote {
            // Within a leader's lease (we heard from it within an election timeout) a vote
            // request is a disruption, not a failure: ignore it unless the leader asked.
            if isWithinLeaseOfSomeLeader && message.context != forcedVoteContext { return false }
        }
        switch message.kind {
        case .preVote:
            break  // a rehearsal: our term stays
        case .preVoteResponse where !message.reject:
            break  // a grant for our own rehearsal term; the real election raises the term
        case .append, .heartbeat, .snapshot:
            becomeFollower(term: message.term, leader: message.from)
        default:
            becomeFollower(term: message.term, leader: noNode)
        }
        return true
    }

    /// Whether we promised a leader (by hearing from it within an election timeout) not to
    /// help elect anyone else. A replica that just started forgot whom it heard from, so with
    /// lease reads on it stays silent for one election timeout: a leader may count on it.
    private var isWithinLeaseOfSomeLeader: Bool {
        guard config.checkQuorum else { return false }
        if leader != noNode && electionElapsed < config.electionTicks { return true }
        return config.readMode == .leaseBased && ticksSinceStart < UInt64(config.electionTicks)
    }

    private func answerStaleTerm(_ message: Message) {
        if (config.checkQuorum || config.preVote) && (message.kind == .heartbeat || message.kind == .append) {
            // A leader from an older term, perhaps back from a partition: our term deposes it.
            // (Without this, a node that pre-vote keeps from raising its term could be stuck.)
            send(.appendResponse, to: message.from)
        } else if message.kind == .preVote {
            send(.preVoteResponse, to: message.from, reject: true)
        }
    }

    private func handleVoteRequest(_ request: Message) {
        let isPreVote = request.kind == .preVote
        let canVote = vote == request.from
            || (vote == noNode && leader == noNode)
            || (isPreVote && request.term > term)
        let response: Message.Kind = isPreVote ? .preVoteResponse : .voteResponse
        if canVote && log.isUpToDate(index: request.index, term: request.logTerm) {
            send(response, to: request.from, term: request.term)
            if !isPreVote {
                electionElapsed = 0
                vote = request.from
            }
        } else {
            send(response, to: request.from, reject: true)
        }
    }

    private func stepCandidate(_ message: Message) {
        let expected: Message.Kind = role == .preCandidate ? .preVoteResponse : .voteResponse
        switch message.kind {
        case .append:
            becomeFollower(term: message.term, leader: message.from)
            handleAppend(message)
        case .heartbeat:
            becomeFollower(term: message.term, leader: message.from)
            handleHeartbeat(message)
        case .snapshot:
            becomeFollower(term: message.term, leader: message.from)
            handleSnapshot(message)
        case expected:
            tracker.recordVote(from: message.from, granted: !message.reject)
            switch tracker.tally {
            case .won:
                if role == .preCandidate {
                    campaign(preVote: false, forced: false)
                } else {
                    becomeLeader()
                    broadcastAppend()
                }
            case .lost:
                becomeFollower(term: term, leader: noNode)
            case .pending:
                break
            }
        default:
            break
        }
    }

    private func stepFollower(_ message: Message) {
        switch message.kind {
        case .append:
            heardFromLeader(message.from)
            handleAppend(message)
        case .heartbeat:
            heardFromLeader(message.from)
            handleHeartbeat(message)
            if message.quiesce { isQuiesced = true }
        case .snapshot:
            heardFromLeader(message.from)
            handleSnapshot(message)
        case .timeoutNow:
            startElection(forcedByTransfer: true)
        case .readIndexResponse:
            readStates.append(ReadState(requestID: message.context, index: message.index))
        default:
            break
        }
    }

    private func heardFromLeader(_ node: NodeID) {
        electionElapsed = 0
        leader = node
    }
}
