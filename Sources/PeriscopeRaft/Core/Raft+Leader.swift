/// The leader's side of replication: sending appends, snapshots and heartbeats, and
/// counting acknowledgements into commits.
extension Raft {
    func stepLeader(_ message: Message) {
        guard tracker.progress[message.from] != nil else { return }  // not (or no longer) a member
        tracker.progress[message.from]!.recentActive = true
        switch message.kind {
        case .appendResponse: handleAppendResponse(message)
        case .heartbeatResponse: handleHeartbeatResponse(message)
        case .readIndex: handleReadRequest(requestID: message.context, requester: message.from)
        default: break
        }
    }

    private func handleAppendResponse(_ response: Message) {
        let follower = response.from
        if response.reject {
            // Skip a whole term of mismatched entries per round trip, not one entry.
            let hint = response.logTerm > 0
                ? log.findConflictByTerm(index: response.rejectHint, term: response.logTerm)
                : response.rejectHint
            guard tracker.progress[follower]!.maybeDecrease(rejected: response.index, hint: hint) else { return }
            if tracker.progress[follower]!.state == .replicate { tracker.progress[follower]!.becomeProbe() }
            sendAppend(to: follower)
            return
        }
        let wasPaused = tracker.progress[follower]!.isPaused
        guard tracker.progress[follower]!.maybeUpdate(response.index) else { return }
        switch tracker.progress[follower]!.state {
        case .probe:
            tracker.progress[follower]!.becomeReplicate()
        case .snapshot:
            if tracker.progress[follower]!.match + 1 >= log.firstIndex {
                tracker.progress[follower]!.becomeProbe()
                tracker.progress[follower]!.becomeReplicate()
            }
        case .replicate:
            tracker.progress[follower]!.inflights.freeThrough(response.index)
        }
        if maybeCommit() {
            broadcastAppend()
        } else if wasPaused {
            sendAppend(to: follower)
        }
        // Pipelining: keep the window full while there is more to send.
        while maybeSendAppend(to: follower, sendIfEmpty: false) {}
        if follower == leadTransferee && tracker.progress[follower]!.match == log.lastIndex {
            sendTimeoutNow(to: follower)
        }
    }

    private func handleHeartbeatResponse(_ response: Message) {
        let follower = response.from
        tracker.progress[follower]!.probeSent = false
        tracker.progress[follower]!.leaseAcknowledgedTick = max(tracker.progress[follower]!.leaseAcknowledgedTick, response.leaderTick)
        // Appends were lost: free one slot so the follower can be reached again.
        if tracker.progress[follower]!.state == .replicate && tracker.progress[follower]!.inflights.isFull {
            tracker.progress[follower]!.inflights.freeFirst()
        }
        if tracker.progress[follower]!.match < log.lastIndex { sendAppend(to: follower) }
        guard response.context != 0 else { return }
        let confirmed = readQueue.acknowledge(sequence: response.context, from: follower) { acknowledged in
            tracker.voterIDs.filter { acknowledged.contains($0) }.count >= tracker.quorum
        }
        for read in confirmed { answerRead(requestID: read.requestID, requester: read.requester, index: read.index) }
    }

    /// Whether followers making up a quorum are still bound not to elect anyone else: they
    /// acknowledged a heartbeat sent recently enough, and no transfer released them.
    var holdsLease: Bool {
        guard !leaseForfeited else { return false }
        let acknowledged = tracker.quorumAcknowledgedTick(selfID: id, now: ticksSinceStart)
        return acknowledged > 0 && ticksSinceStart - acknowledged < UInt64(config.electionTicks - config.leaseMarginTicks)
    }

    /// Commits what a quorum of voters stored, if it is of this term. True if commit moved.
    func maybeCommit() -> Bool {
        guard log.maybeCommit(index: tracker.committedIndex, term: term) else { return false }
        releaseReadsAwaitingFirstCommit()
        return true
    }

    func sendAppend(to follower: NodeID) { _ = maybeSendAppend(to: follower, sendIfEmpty: true) }

    func broadcastAppend() {
        needsBroadcast = false
        for member in tracker.memberIDs where member != id { sendAppend(to: member) }
    }

    func broadcastHeartbeat(context: UInt64, quiesce: Bool = false) {
        for member in tracker.memberIDs where member != id {
            // Never tell a follower to commit beyond what it is known to hold.
            let commit = min(tracker.progress[member]!.match, log.committed)
            send(.heartbeat, to: member, commit: commit, context: context, leaderTick: ticksSinceStart, quiesce: quiesce)
        }
    }

    /// Nothing is in flight: every member holds the whole log, which is committed and
    /// applied, and no read, transfer or membership change is pending.
    var canQuiesce: Bool {
        role == .leader && leadTransferee == noNode && readQueue.pending.isEmpty && readsAwaitingFirstCommit.isEmpty
            && !needsBroadcast && log.committed == log.lastIndex && log.applied == log.committed && hasCommittedInCurrentTerm
            && tracker.progress.values.allSatisfy { $0.match == log.lastIndex }
    }

    /// The last heartbeat (it carries the commit every member holds already), then silence.
    func quiesce() {
        broadcastHeartbeat(context: 0, quiesce: true)
        isQuiesced = true
    }

    /// Sends the next entries (or a snapshot, if they were compacted) to `follower`. Returns
    /// whether a message went out.
    @discardableResult
    func maybeSendAppend(to follower: NodeID, sendIfEmpty: Bool) -> Bool {
        guard let progress = tracker.progress[follower], !progress.isPaused else { return false }
        let previous = progress.next - 1
        guard let previousTerm = try? log.term(at: previous),
              let entries = try? log.slice(from: progress.next, to: log.lastIndex + 1, bytesMax: config.messageBytesMax)
        else { return sendSnapshot(to: follower) }
        if entries.isEmpty && !sendIfEmpty { return false }
        send(.append, to: follower, logTerm: previousTerm, index: previous, entries: entries, commit: log.committed)
        switch progress.state {
        case .replicate:
            if let last = entries.last {
                tracker.progress[follower]!.next = last.index + 1
                tracker.progress[follower]!.inflights.add(last.index)
            }
        case .probe:
            tracker.progress[follower]!.probeSent = true
        case .snapshot:
            preconditionFailure("node \(id): append sent to \(follower) while a snapshot is pending")
        }
        return true
    }

    private func sendSnapshot(to follower: NodeID) -> Bool {
        // A follower we have not heard from lately may be down: do not ship a whole state.
        guard tracker.progress[follower]!.recentActive else { return false }
        let snapshot = log.storage.snapshot
        precondition(!snapshot.isEmpty, "node \(id): entries before \(log.firstIndex) were compacted without a snapshot")
        tracker.progress[follower]!.becomeSnapshot(at: snapshot.metadata.index)
        send(.snapshot, to: follower, snapshot: snapshot)
        return true
    }

    /// The transport's word on a snapshot it carried (or failed to).
    func reportSnapshot(to follower: NodeID, delivered: Bool) {
        guard role == .leader, tracker.progress[follower]?.state == .snapshot else { return }
        if !delivered { tracker.progress[follower]!.pendingSnapshot = 0 }
        tracker.progress[follower]!.becomeProbe()
        // Wait for the follower's answer (or a heartbeat response) before probing again.
        tracker.progress[follower]!.probeSent = true
    }

    /// The transport could not reach `follower`: stop streaming to it and probe instead.
    func reportUnreachable(_ follower: NodeID) {
        guard role == .leader, tracker.progress[follower]?.state == .replicate else { return }
        tracker.progress[follower]!.becomeProbe()
    }
}
