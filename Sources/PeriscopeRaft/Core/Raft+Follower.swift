/// The follower's side of replication: accepting appends, heartbeats and snapshots.
extension Raft {
    func handleAppend(_ append: Message) {
        if append.index < log.committed {
            // Old news: everything up to our commit matches any leader's log.
            send(.appendResponse, to: append.from, index: log.committed)
            return
        }
        if let lastNew = log.maybeAppend(index: append.index, logTerm: append.logTerm, commit: append.commit, entries: append.entries) {
            send(.appendResponse, to: append.from, index: lastNew)
            return
        }
        // Our log does not hold (index, logTerm). Point the leader at the last entry whose
        // term could still match, so it skips whole mismatched terms.
        let hintIndex = log.findConflictByTerm(index: min(append.index, log.lastIndex), term: append.logTerm)
        let hintTerm = (try? log.term(at: hintIndex)) ?? 0
        send(.appendResponse, to: append.from, logTerm: hintTerm, index: append.index, reject: true, rejectHint: hintIndex)
    }

    func handleHeartbeat(_ heartbeat: Message) {
        log.commitTo(heartbeat.commit)
        send(.heartbeatResponse, to: heartbeat.from, context: heartbeat.context, leaderTick: heartbeat.leaderTick)
    }

    func handleSnapshot(_ message: Message) {
        guard let snapshot = message.snapshot else { return }
        if restore(snapshot) {
            send(.appendResponse, to: message.from, index: log.lastIndex)
        } else {
            send(.appendResponse, to: message.from, index: log.committed)
        }
    }

    /// Replaces the log with `snapshot` unless we already hold what it covers. True if the
    /// snapshot is to be installed (it is in the next Ready).
    private func restore(_ snapshot: Snapshot) -> Bool {
        let metadata = snapshot.metadata
        guard metadata.index > log.committed else { return false }
        if log.matchTerm(metadata.index, metadata.term) {
            // Our log already has it: just move the commit forward.
            log.commitTo(metadata.index)
            return false
        }
        log.restore(snapshot)
        tracker = ProgressTracker(config: metadata.confState, inflightCapacity: config.inflightMessagesMax)
        tracker.setConfig(metadata.confState, nextIndex: log.lastIndex + 1)
        return true
    }
}
