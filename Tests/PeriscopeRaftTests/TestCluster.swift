import PeriscopeRaft

/// A Raft group on a perfect, instant network, stepped by hand: the unit tests' harness.
/// Links can be cut; `stabilize` runs Readies and deliveries until nothing moves.
final class TestCluster {
    var nodes: [NodeID: RaftNode] = [:]
    var disks: [NodeID: MemoryStorage] = [:]
    var applied: [NodeID: [Entry]] = [:]
    var readStates: [NodeID: [ReadState]] = [:]
    var cut: Set<[NodeID]> = []
    var sent: [Message] = []
    private var queue: [Message] = []
    let baseConfig: RaftConfig

    init(voters: Int, config: RaftConfig = RaftConfig(id: 1, electionTicks: 10, heartbeatTicks: 1)) {
        baseConfig = config
        let members = Set((1...NodeID(voters)).map { $0 })
        let genesis = Snapshot(metadata: SnapshotMetadata(index: 1, term: 1, confState: ConfState(voters: members)))
        for id in members.sorted() {
            disks[id] = MemoryStorage(snapshot: genesis, hardState: HardState(term: 1, commit: 1))
            start(id)
        }
    }

    func start(_ id: NodeID) {
        var config = baseConfig
        config.id = id
        nodes[id] = RaftNode(config: config, storage: disks[id]!, random: SeededRandom(seed: id))
        applied[id, default: []] = applied[id] ?? []
    }

    /// Adds an empty replica (to be added by a membership change).
    func addEmpty(_ id: NodeID) {
        disks[id] = MemoryStorage()
        start(id)
    }

    func crash(_ id: NodeID) { nodes[id] = nil }

    func isolate(_ id: NodeID) {
        for other in nodes.keys where other != id { cut.insert([id, other]); cut.insert([other, id]) }
    }

    func healAll() { cut = [] }

    var leader: RaftNode? { nodes.values.filter { $0.role == .leader }.max { $0.term < $1.term } }

    func elect(_ id: NodeID) {
        nodes[id]!.campaign()
        stabilize()
    }

    func tick(_ count: Int = 1) {
        for _ in 0..<count {
            for id in nodes.keys.sorted() { nodes[id]!.tick() }
            stabilize()
        }
    }

    func stabilize(roundsMax: Int = 1000) {
        for _ in 0..<roundsMax {
            var moved = false
            for id in nodes.keys.sorted() {
                guard let node = nodes[id], node.hasReady else { continue }
                moved = true
                let ready = node.ready()
                queue += ready.messages
                disks[id]!.persist(ready)
                queue += ready.messagesAfterPersist
                applied[id]! += ready.committedEntries
                readStates[id, default: []] += ready.readStates
                node.advance(ready)
            }
            let delivering = queue
            queue = []
            for message in delivering {
                sent.append(message)
                guard !cut.contains([message.from, message.to]), let target = nodes[message.to] else { continue }
                moved = true
                target.step(message)
            }
            if !moved { return }
        }
    }

    func appliedData(_ id: NodeID) -> [[UInt8]] { applied[id]!.filter { $0.kind == .normal && !$0.data.isEmpty }.map(\.data) }
}
