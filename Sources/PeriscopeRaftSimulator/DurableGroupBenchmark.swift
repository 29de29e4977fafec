import Dispatch
import Foundation
import PeriscopeRaft
import PeriscopeRaftLog

/// Proposals committed per second by a group whose replicas persist to real log stores on
/// disk (fsync on), with `proposers` clients each keeping one proposal outstanding. The
/// network is in memory and instant, so the disk is what is measured: how many entries
/// each fsync carries. The replicas' fsyncs of one round run in parallel, as on separate
/// machines.
public final class DurableGroupBenchmark {
    public struct Result: Sendable {
        public var proposers: Int
        public var committed: Int
        public var seconds: Double
        public var fsyncs: Int
        public var committedPerSecond: Double { Double(committed) / seconds }
        public var fsyncsPerEntry: Double { committed == 0 ? 0 : Double(fsyncs) / Double(committed) }
    }

    private struct Replica {
        let node: RaftNode
        let log: MemoryStorage
        let store: RaftLogStore
    }

    private let replicas: [Replica]
    private var inbox: [Message] = []
    private var pending: [LogIndex: Term] = [:]
    private let payloadBytes: Int
    static let group: GroupID = 1

    public init(directory: String, voters: Int = 3, payloadBytes: Int = 128) throws {
        self.payloadBytes = payloadBytes
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let members = Set((1...NodeID(voters)).map { $0 })
        let genesis = Snapshot(metadata: SnapshotMetadata(index: 1, term: 1, confState: ConfState(voters: members)))
        replicas = try members.sorted().map { id in
            let store = try RaftLogStore(path: "\(directory)/node-\(id)")
            let log = MemoryStorage(snapshot: genesis, hardState: HardState(term: 1, commit: 1))
            var write = GroupWrite(group: Self.group)
            write.recordSnapshot(genesis)
            write.recordCompaction(through: 1, term: 1)
            try store.write([write])
            let config = RaftConfig(id: id, electionTicks: 10, heartbeatTicks: 1, inflightMessagesMax: 256,
                                    uncommittedBytesMax: 256 << 20)
            return Replica(node: RaftNode(config: config, storage: log, random: SeededRandom(seed: id)), log: log, store: store)
        }
    }

    public func run(proposers: Int, seconds: Double) throws -> Result {
        try electLeader()
        let leader = replicas[0].node
        let fsyncsBefore = replicas.reduce(0) { $0 + $1.store.counters.fsyncs }
        let started = DispatchTime.now().uptimeNanoseconds
        let deadline = started + UInt64(seconds * 1e9)
        var committed = 0
        var lastTick = started
        while DispatchTime.now().uptimeNanoseconds < deadline {
            while pending.count < proposers {
                let entry = try leader.propose([UInt8](repeating: 0x61, count: payloadBytes))
                pending[entry.index] = entry.term
            }
            committed += try round()
            let now = DispatchTime.now().uptimeNanoseconds
            if now - lastTick > 100_000_000 {  // a 100 ms tick keeps heartbeats realistic
                lastTick = now
                for replica in replicas { replica.node.tick() }
            }
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let fsyncs = replicas.reduce(0) { $0 + $1.store.counters.fsyncs } - fsyncsBefore
        return Result(proposers: proposers, committed: committed, seconds: elapsed, fsyncs: fsyncs)
    }

    private func electLeader() throws {
        guard replicas[0].node.role != .leader else { return }
        replicas[0].node.campaign()
        for _ in 0..<100 where replicas[0].node.role != .leader { _ = try round() }
        guard replicas[0].node.role == .leader else { throw BenchmarkError.noLeader }
    }

    /// One round: every replica's Ready, with the fsyncs in parallel; then deliver messages.
    /// Returns the proposals the leader saw committed.
    private func round() throws -> Int {
        let readies: [Ready?] = replicas.map { $0.node.hasReady ? $0.node.ready() : nil }
        for ready in readies.compactMap({ $0 }) { inbox += ready.messages }
        let writes = zip(replicas, readies).map { replica, ready in
            ready.map { GroupWrite(group: Self.group, ready: $0, log: replica.log) }
        }
        let failures = Failures()
        let stores = replicas.map(\.store)
        DispatchQueue.concurrentPerform(iterations: stores.count) { position in
            guard let write = writes[position], !write.isEmpty else { return }
            do { try stores[position].write([write]) } catch { failures.record(error) }
        }
        if let failure = failures.first { throw failure }
        var acknowledged = 0
        for (replica, ready) in zip(replicas, readies) {
            guard let ready else { continue }
            replica.log.persist(ready)
            inbox += ready.messagesAfterPersist
            if replica.node.role == .leader {
                for entry in ready.committedEntries where pending.removeValue(forKey: entry.index) == entry.term {
                    acknowledged += 1
                }
            }
            replica.node.advance(ready)
        }
        let delivering = inbox
        inbox = []
        for message in delivering { replicas[Int(message.to) - 1].node.step(message) }
        return acknowledged
    }
}

public enum BenchmarkError: Error, CustomStringConvertible {
    case noLeader
    public var description: String { "no leader was elected within 100 rounds" }
}

private final class Failures: @unchecked Sendable {
    // @unchecked: `errors` is only touched under `lock`.
    private let lock = NSLock()
    private var errors: [any Error] = []
    func record(_ error: any Error) { lock.withLock { errors.append(error) } }
    var first: (any Error)? { lock.withLock { errors.first } }
}
