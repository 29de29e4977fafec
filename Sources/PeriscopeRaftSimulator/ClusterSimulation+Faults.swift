import PeriscopeRaft

/// The chaos: crashes, restarts, partitions of every shape, leader transfers and membership
/// changes, each drawn per tick at the rates the run's configuration sets.
extension ClusterSimulation {
    func injectFaults() {
        if chancePerMille(config.crashPerMille), let victim = random.pick(upReplicas) {
            crash(victim, insideReady: false)
        }
        let down = ids.compactMap { id -> SimulatedReplica? in
            let replica = replicas[id]!
            return replica.isUp || replica.isRemoved ? nil : replica
        }
        if chancePerMille(config.restartPerMille), let revived = random.pick(down) { restart(revived) }
        if !network.isPartitioned && chancePerMille(config.partitionPerMille) {
            partition()
        } else if network.isPartitioned && chancePerMille(config.healPerMille) {
            network.heal()
            record("partition healed")
        }
        if chancePerMille(config.transferPerMille) { requestTransfer() }
        if chancePerMille(config.membershipPerMille) { changeMembership() }
    }

    private func partition() {
        let members = ids.filter { !replicas[$0]!.isRemoved }
        guard members.count >= 2 else { return }
        report.partitions += 1
        var shuffled = members
        shuffled.shuffle(using: &random)
        let cut = 1 + random.below(shuffled.count - 1)
        let (left, right) = (Array(shuffled[..<cut]), Array(shuffled[cut...]))
        switch random.below(4) {
        case 0:
            network.separate([shuffled[0]], from: Array(shuffled.dropFirst()))
            record("partition: \(shuffled[0]) isolated")
        case 1:
            network.separate(left, from: right)
            record("partition: \(left) | \(right)")
        case 2:
            // Asymmetric: some links carry one way only.
            for _ in 0..<(1 + random.below(members.count)) {
                guard let from = random.pick(members), let to = random.pick(members), from != to else { continue }
                network.cut(from: from, to: to)
            }
            record("partition: asymmetric links \(network.cutLinks.map { "\($0.from)→\($0.to)" }.sorted())")
        default:
            // A bridge: one node still talks to both sides.
            guard left.count >= 2 else {
                network.separate(left, from: right)
                record("partition: \(left) | \(right)")
                return
            }
            let bridge = left[0]
            network.separate(Array(left.dropFirst()), from: right)
            record("partition: \(Array(left.dropFirst())) | \(right), bridged by \(bridge)")
        }
    }

    private func requestTransfer() {
        guard let leader = currentLeader, let node = leader.node else { return }
        guard let target = random.pick(node.confState.voters.sorted().filter { $0 != leader.id }) else { return }
        report.transfersRequested += 1
        do {
            try node.transferLeadership(to: target)
            record("transfer \(leader.id) → \(target) requested")
        } catch {
            record("transfer \(leader.id) → \(target) refused: \(error)")
        }
    }

    /// One single-server change: add a learner (a fresh, empty replica), promote a caught-up
    /// learner, demote or remove a voter, or remove a learner.
    private func changeMembership() {
        guard let leader = currentLeader, let node = leader.node else { return }
        let conf = node.confState
        let status = node.status
        let change: ConfChange
        var spawned: NodeID?
        if let learner = conf.learners.sorted().first {
            let caughtUp = (status.progress[learner]?.match ?? 0) + 5 >= status.lastIndex
            if caughtUp && conf.voters.count < config.votersMax {
                change = ConfChange(.addVoter, node: learner)
            } else if random.below(4) == 0 {
                change = ConfChange(.removeNode, node: learner)
            } else {
                return  // let it catch up
            }
        } else if conf.voters.count < config.votersMax && random.below(2) == 0 {
            let newID = nextNodeID
            nextNodeID += 1
            addReplica(newID, disk: MemoryStorage())
            spawned = newID
            change = ConfChange(.addLearner, node: newID)
        } else if conf.voters.count > 3, let voter = random.pick(conf.voters.sorted()) {
            change = ConfChange(random.below(3) == 0 ? .addLearner : .removeNode, node: voter)
        } else {
            return
        }
        do {
            try node.proposeConfChange(change)
            report.membershipChanges += 1
            record("membership change proposed at \(leader.id): \(change)")
        } catch {
            record("membership change \(change) refused: \(error)")
            if let spawned { stopNeverAdded(spawned) }
        }
    }

    private func stopNeverAdded(_ id: NodeID) {
        replicas[id]!.crash()
        replicas[id]!.isRemoved = true
    }
}
