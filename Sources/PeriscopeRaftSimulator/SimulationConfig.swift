import PeriscopeRaft

/// How hard one simulated run pushes. `forSeed` draws the fault mix from the seed itself, so
/// a sweep over seeds covers calm runs, lossy ones, crash storms and partition storms.
public struct SimulationConfig: Sendable {
    public var seed: UInt64
    public var initialVoters: Int
    /// Ticks of faults before the network heals and every replica restarts.
    public var chaosTicks: Int
    /// After healing, a leader must commit and every member apply within this many ticks.
    public var livenessTicksMax: Int
    public var raft: RaftConfig
    /// Each replica snapshots and compacts every this many applied entries.
    public var snapshotEveryEntries: LogIndex
    public var entriesRetained: LogIndex
    public var votersMax: Int

    // Fault and workload rates: per mille per tick unless named otherwise.
    public var dropPercent: Int
    public var duplicatePercent: Int
    public var delayTicksMax: Int
    public var crashPerMille: Int
    /// Chance, per Ready handled, of a crash inside it (before or after the fsync).
    public var crashInReadyPerMille: Int
    public var restartPerMille: Int
    public var partitionPerMille: Int
    public var healPerMille: Int
    public var transferPerMille: Int
    public var membershipPerMille: Int
    public var proposalPercent: Int
    public var readPercent: Int

    public init(seed: UInt64, initialVoters: Int = 3, chaosTicks: Int = 1200, livenessTicksMax: Int = 1000) {
        self.seed = seed
        self.initialVoters = initialVoters
        self.chaosTicks = chaosTicks
        self.livenessTicksMax = livenessTicksMax
        raft = RaftConfig(id: 1, electionTicks: 10, heartbeatTicks: 1, inflightMessagesMax: 8, uncommittedBytesMax: 64 << 10)
        snapshotEveryEntries = 40
        entriesRetained = 8
        votersMax = 5
        dropPercent = 0
        duplicatePercent = 0
        delayTicksMax = 1
        crashPerMille = 0
        crashInReadyPerMille = 0
        restartPerMille = 50
        partitionPerMille = 0
        healPerMille = 30
        transferPerMille = 0
        membershipPerMille = 0
        proposalPercent = 60
        readPercent = 10
    }

    /// A run whose fault mix, cluster size and Raft options are drawn from `seed`.
    public static func forSeed(_ seed: UInt64, chaosTicks: Int = 1200) -> SimulationConfig {
        var random = SeededRandom(seed: seed ^ 0x5EED_C0FF_EE00_0001)
        var config = SimulationConfig(seed: seed, initialVoters: random.below(2) == 0 ? 3 : 5, chaosTicks: chaosTicks)
        config.dropPercent = random.below(12)
        config.duplicatePercent = random.below(6)
        config.delayTicksMax = 1 + random.below(5)
        config.crashPerMille = random.below(12)
        config.crashInReadyPerMille = random.below(6)
        config.restartPerMille = 20 + random.below(100)
        config.partitionPerMille = random.below(20)
        config.healPerMille = 10 + random.below(60)
        config.transferPerMille = random.below(15)
        config.membershipPerMille = random.below(15)
        config.proposalPercent = 20 + random.below(80)
        config.readPercent = random.below(30)
        config.raft.preVote = random.below(4) != 0
        config.raft.checkQuorum = random.below(4) != 0
        config.raft.readMode = config.raft.checkQuorum && random.below(3) == 0 ? .leaseBased : .quorumConfirmed
        config.raft.inflightMessagesMax = 1 + random.below(16)
        config.raft.messageBytesMax = [512, 4096, 1 << 20][random.below(3)]
        config.snapshotEveryEntries = LogIndex(10 + random.below(80))
        config.entriesRetained = LogIndex(random.below(20))
        return config
    }
}

/// What one run did and whether Raft's properties held.
public struct SimulationReport: Sendable, CustomStringConvertible {
    public var seed: UInt64
    public var ticks = 0
    public var proposalsAccepted = 0
    public var proposalsAcknowledged = 0
    public var highestCommitted: LogIndex = 0
    public var elections = 0
    public var crashes = 0
    public var crashesInsideReady = 0
    public var restarts = 0
    public var partitions = 0
    public var messagesSent = 0
    public var messagesDropped = 0
    public var messagesDuplicated = 0
    public var transfersRequested = 0
    public var membershipChanges = 0
    public var snapshotsInstalled = 0
    public var readsAnswered = 0
    public var livenessTicks = 0
    public var violations: [String] = []
    /// The last events before the first violation, for diagnosis.
    public var trace: [String] = []

    public var description: String {
        var text = "seed \(seed): \(ticks) ticks, \(proposalsAcknowledged)/\(proposalsAccepted) proposals acknowledged, "
            + "commit \(highestCommitted), \(elections) leaders, \(crashes) crashes (\(crashesInsideReady) mid-Ready), "
            + "\(restarts) restarts, \(partitions) partitions, \(messagesDropped)/\(messagesSent) messages dropped, "
            + "\(messagesDuplicated) duplicated, \(transfersRequested) transfers, \(membershipChanges) membership changes, "
            + "\(snapshotsInstalled) snapshots installed, \(readsAnswered) reads, healed in \(livenessTicks) ticks"
        if !violations.isEmpty { text += "\nVIOLATIONS:\n" + violations.joined(separator: "\n") }
        return text
    }
}
