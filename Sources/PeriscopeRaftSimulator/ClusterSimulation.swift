import PeriscopeRaft

/// A whole Raft group in one process, driven tick by tick from one seed: replicas, a faulty
/// network, crashes and restarts, partitions, leader transfers, membership changes, clients
/// proposing and reading. Raft's safety properties are checked after every step; after the
/// chaos the network heals and the group must make progress within a bounded number of ticks.
/// The same seed always replays the same run.
public final class ClusterSimulation {
    let config: SimulationConfig
    var random: SeededRandom
    var network = SimulatedNetwork()
    var replicas: [NodeID: SimulatedReplica] = [:]
    /// Replica ids in creation order: every loop walks this, never a dictionary.
    var ids: [NodeID] = []
    var checker = InvariantChecker()
    var report: SimulationReport
    var now = 0
    var nextProposalID: UInt64 = 1
    var nextReadID: UInt64 = 1
    var nextNodeID: NodeID
    var acknowledged: [UInt64: LogIndex] = [:]
    /// False once the run heals: from then on nothing fails.
    var faultsActive = true
    private var livenessProbe: UInt64?
    private var recentEvents: [String] = []

    public init(config: SimulationConfig) {
        self.config = config
        random = SeededRandom(seed: config.seed)
        report = SimulationReport(seed: config.seed)
        nextNodeID = NodeID(config.initialVoters + 1)
        network.faults = SimulatedNetwork.Faults(
            dropPercent: config.dropPercent, duplicatePercent: config.duplicatePercent, delayTicksMax: config.delayTicksMax)
    }

    public func run() -> SimulationReport {
        bootstrap()
        while now < config.chaosTicks && checker.violations.isEmpty { step(chaos: true) }
        healEverything()
        let healedAt = now
        var progressed = false
        while checker.violations.isEmpty && now - healedAt < config.livenessTicksMax {
            step(chaos: false)
            if hasMadeProgressSinceHealing() {
                progressed = true
                break
            }
        }
        if !progressed && checker.violations.isEmpty {
            checker.fail("liveness: no leader committed and spread a new entry within \(config.livenessTicksMax) ticks of healing; \(clusterSummary())")
        }
        checker.checkAcknowledged(acknowledged)
        return finishedReport(livenessTicks: now - healedAt)
    }

    /// Every initial voter starts from the same genesis snapshot at index 1, which carries the
    /// membership; replicas added later start empty and receive a snapshot.
    private func bootstrap() {
        for id in 1...NodeID(config.initialVoters) { addReplica(id, disk: genesisDisk()) }
    }

    private func genesisDisk() -> MemoryStorage {
        let voters = Set((1...NodeID(config.initialVoters)).map { $0 })
        let genesis = Snapshot(
            metadata: SnapshotMetadata(index: 1, term: 1, confState: ConfState(voters: voters)),
            data: ReplicaStateMachine.genesis.encoded())
        return MemoryStorage(snapshot: genesis, hardState: HardState(term: 1, commit: 1))
    }

    func addReplica(_ id: NodeID, disk: MemoryStorage) {
        let replica = SimulatedReplica(id: id, disk: disk)
        replicas[id] = replica
        ids.append(id)
        replica.start(config: config.raft, seed: config.seed)
    }

    func step(chaos: Bool) {
        now += 1
        checker.now = now
        for (message, arrives) in network.deliver(now: now) { deliver(message, arrives: arrives) }
        for id in ids { replicas[id]!.node?.tick() }
        if chaos { injectFaults() }
        runClients()
        for id in ids { handleReadies(of: replicas[id]!) }
    }

    private func deliver(_ message: Message, arrives: Bool) {
        let sender = replicas[message.from]?.node
        guard arrives, let recipient = replicas[message.to], let node = recipient.node else {
            if message.kind == .snapshot { sender?.reportSnapshot(to: message.to, delivered: false) }
            return
        }
        node.step(message)
        if message.kind == .snapshot { sender?.reportSnapshot(to: message.to, delivered: true) }
    }

    func send(_ message: Message) {
        let delivered = network.send(message, now: now, random: &random)
        guard !delivered, let sender = replicas[message.from]?.node else { return }
        // A real transport notices a stream it could not complete.
        if message.kind == .snapshot { sender.reportSnapshot(to: message.to, delivered: false) }
        if !network.canDeliver(from: message.from, to: message.to) && message.kind == .append {
            sender.reportUnreachable(message.to)
        }
    }

    private func healEverything() {
        record("heal: network repaired, every replica restarted")
        faultsActive = false
        network.heal()
        network.faults = SimulatedNetwork.Faults()
        for id in ids where !replicas[id]!.isUp && !replicas[id]!.isRemoved { restart(replicas[id]!) }
    }

    func restart(_ replica: SimulatedReplica) {
        replica.start(config: config.raft, seed: config.seed &+ UInt64(now))
        report.restarts += 1
        record("restart \(replica.id)")
    }

    func crash(_ replica: SimulatedReplica, insideReady: Bool) {
        replica.crash()
        report.crashes += 1
        if insideReady { report.crashesInsideReady += 1 }
        record("crash \(replica.id)\(insideReady ? " inside a Ready" : "")")
    }

    // MARK: Views

    var upReplicas: [SimulatedReplica] { ids.compactMap { replicas[$0]!.isUp ? replicas[$0] : nil } }

    /// The leader with the highest term among running replicas.
    var currentLeader: SimulatedReplica? {
        upReplicas.filter { $0.node!.role == .leader }.max { $0.node!.term < $1.node!.term }
    }

    /// After healing: a leader commits a fresh probe proposal and every member of its
    /// configuration applies it (and everything acknowledged before it).
    private func hasMadeProgressSinceHealing() -> Bool {
        guard let leader = currentLeader, let node = leader.node else { return false }
        if let probe = livenessProbe, let index = acknowledged[probe] {
            let target = max(index, checker.highestApplied)
            return node.confState.members.allSatisfy { member in
                replicas[member].map { $0.isUp && $0.machine.appliedIndex >= target } ?? false
            }
        }
        let probePending = leader.pendingProposals.values.contains { $0.proposal == livenessProbe }
        if !probePending {
            let probe = nextProposalID
            if let entry = try? node.propose(proposalPayload(id: probe, fillerBytes: 0)) {
                nextProposalID += 1
                leader.pendingProposals[entry.index] = (entry.term, probe)
                livenessProbe = probe
                report.proposalsAccepted += 1
            }
        }
        return false
    }

    func clusterSummary() -> String {
        ids.map { id -> String in
            let replica = replicas[id]!
            guard let node = replica.node else { return "\(id): \(replica.isRemoved ? "removed" : "down")" }
            var text = "\(id): \(node.role) t\(node.term) commit \(node.committedIndex) applied \(replica.machine.appliedIndex) \(node.confState)"
            if node.role == .leader {
                text += " progress " + node.status.progress.sorted { $0.key < $1.key }
                    .map { "\($0.key):\($0.value.state) match \($0.value.match) next \($0.value.next)" }.joined(separator: ", ")
            }
            return text
        }.joined(separator: "; ")
    }

    func record(_ event: String) {
        recentEvents.append("tick \(now): \(event)")
        if recentEvents.count > 80 { recentEvents.removeFirst(recentEvents.count - 80) }
    }

    private func finishedReport(livenessTicks: Int) -> SimulationReport {
        var report = self.report
        report.ticks = now
        report.elections = checker.elections
        report.highestCommitted = checker.highestApplied
        report.messagesSent = network.sent
        report.messagesDropped = network.dropped
        report.messagesDuplicated = network.duplicated
        report.livenessTicks = livenessTicks
        report.violations = checker.violations
        if !checker.violations.isEmpty { report.trace = recentEvents }
        return report
    }
}
