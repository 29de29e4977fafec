import PeriscopeRaft

/// One replica in the simulation: its disk (which survives crashes), its running core (gone
/// while crashed) and its state machine (rebuilt from the snapshot on restart).
final class SimulatedReplica {
    let id: NodeID
    /// What was fsync'd. The core reads it; only the Ready handling writes it.
    let disk: MemoryStorage
    private(set) var node: RaftNode?
    var machine = ReplicaStateMachine.genesis
    /// Removed from the group: stopped for good.
    var isRemoved = false
    /// Proposals this replica accepted as leader, by index: (term, proposal id).
    var pendingProposals: [LogIndex: (term: Term, proposal: UInt64)] = [:]
    /// Reads issued here: request id → the highest index applied anywhere when issued.
    var pendingReads: [UInt64: LogIndex] = [:]
    private var incarnation: UInt64 = 0

    init(id: NodeID, disk: MemoryStorage) {
        self.id = id
        self.disk = disk
    }

    var isUp: Bool { node != nil }

    func start(config: RaftConfig, seed: UInt64) {
        precondition(node == nil && !isRemoved, "replica \(id) started twice")
        incarnation += 1
        machine = ReplicaStateMachine(decoding: disk.snapshot.data) ?? ReplicaStateMachine(appliedIndex: 0, digest: 0)
        var config = config
        config.id = id
        config.appliedIndex = 0
        node = RaftNode(config: config, storage: disk, random: SeededRandom(seed: seed ^ mix(id &* 1_000_003 &+ incarnation)))
    }

    /// Kill -9: the core, its unsent messages and anything not on `disk` vanish.
    func crash() {
        node = nil
        pendingProposals = [:]
        pendingReads = [:]
    }
}
