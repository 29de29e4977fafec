import PeriscopeRaft

/// Performing each replica's Ready the way a node's shell must: early messages, one
/// persisted batch, acknowledgements, apply, advance. Crashes may strike between the steps.
extension ClusterSimulation {
    func handleReadies(of replica: SimulatedReplica) {
        var rounds = 0
        var removals: [NodeID] = []
        while let node = replica.node, node.hasReady, rounds < 4 {
            rounds += 1
            let ready = node.ready()
            if ready.softState?.role == .leader { leaderElected(replica, node: node, ready: ready) }
            for message in ready.messages { send(message) }
            if faultsActive && ready.needsPersist && chancePerMille(config.crashInReadyPerMille) {
                crash(replica, insideReady: true)  // before the fsync: this Ready's writes are lost
                return
            }
            persist(ready, on: replica)
            if faultsActive && ready.needsPersist && chancePerMille(config.crashInReadyPerMille) {
                crash(replica, insideReady: true)  // after the fsync, before the acknowledgements
                return
            }
            for message in ready.messagesAfterPersist { send(message) }
            removals += apply(ready, on: replica)
            node.advance(ready)
            snapshotIfDue(replica, node: node)
        }
        for id in removals { stopRemoved(id) }
    }

    private func leaderElected(_ replica: SimulatedReplica, node: RaftNode, ready: Ready) {
        record("node \(replica.id) leads term \(node.term)")
        let disk = replica.disk
        let unstable = ready.entries
        let lastIndex = unstable.last?.index ?? disk.lastIndex
        checker.leaderElected(replica.id, term: node.term, termAt: { index in
            if let first = unstable.first, index >= first.index {
                return index <= lastIndex ? unstable[Int(index - first.index)].term : nil
            }
            return try? disk.term(at: index)
        }, lastIndex: lastIndex)
    }

    private func persist(_ ready: Ready, on replica: SimulatedReplica) {
        let disk = replica.disk
        disk.persist(ready)
        for entry in ready.entries where entry.index >= disk.firstIndex {
            let previousTerm = (try? disk.term(at: entry.index - 1)) ?? 0
            checker.entryPersisted(entry, previousTerm: previousTerm, on: replica.id)
        }
    }

    /// Applies the snapshot and committed entries; returns replicas whose removal committed.
    private func apply(_ ready: Ready, on replica: SimulatedReplica) -> [NodeID] {
        if let snapshot = ready.snapshot {
            guard let machine = ReplicaStateMachine(decoding: snapshot.data) else {
                checker.fail("node \(replica.id) received an undecodable snapshot at \(snapshot.metadata.index)")
                return []
            }
            replica.machine = machine
            checker.snapshotInstalled(machine, on: replica.id)
            report.snapshotsInstalled += 1
        }
        var removals: [NodeID] = []
        for entry in ready.committedEntries {
            let before = replica.machine
            replica.machine.apply(entry)
            checker.entryApplied(entry, on: replica.id, before: before, after: replica.machine)
            acknowledgeIfProposedHere(entry, on: replica)
            if entry.kind == .confChange, let change = ConfChange(encoded: entry.data) {
                record("node \(replica.id) applies \(change) at \(entry.index)")
                if change.kind == .removeNode { removals.append(change.node) }
            }
        }
        for read in ready.readStates {
            guard let floor = replica.pendingReads.removeValue(forKey: read.requestID) else { continue }
            checker.readAnswered(on: replica.id, index: read.index, floor: floor)
            report.readsAnswered += 1
        }
        return removals
    }

    private func acknowledgeIfProposedHere(_ entry: Entry, on replica: SimulatedReplica) {
        guard let pending = replica.pendingProposals.removeValue(forKey: entry.index), pending.term == entry.term else { return }
        guard proposalID(of: entry) == pending.proposal else {
            checker.fail("node \(replica.id) applied \(entry) where it had accepted proposal \(pending.proposal)")
            return
        }
        acknowledged[pending.proposal] = entry.index
        report.proposalsAcknowledged += 1
    }

    private func snapshotIfDue(_ replica: SimulatedReplica, node: RaftNode) {
        let disk = replica.disk
        let applied = replica.machine.appliedIndex
        guard applied >= disk.snapshot.metadata.index + config.snapshotEveryEntries, applied == node.appliedIndex else { return }
        do {
            try disk.createSnapshot(at: applied, confState: node.confState, data: replica.machine.encoded())
            let compactTo = applied - min(applied, config.entriesRetained)
            if compactTo >= disk.firstIndex { try disk.compact(through: compactTo) }
        } catch {
            checker.fail("node \(replica.id) could not snapshot at \(applied): \(error)")
        }
    }

    private func stopRemoved(_ id: NodeID) {
        guard let replica = replicas[id], !replica.isRemoved else { return }
        replica.crash()
        replica.isRemoved = true
        network.dropAll(to: id)
        record("node \(id) removed and stopped")
    }

    func chancePerMille(_ perMille: Int) -> Bool { perMille > 0 && random.below(1000) < perMille }
}
