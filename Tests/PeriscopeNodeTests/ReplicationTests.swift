import Foundation
import PeriscopeModel
import PeriscopeNode
import PeriscopeRaftLog
import PeriscopeShard
import PeriscopeStorage
import PeriscopeTestSupport
import Synchronization
import Testing

/// A node's write path below the API, on real RocksDB: proposals through a one-member Raft
/// group, group-committed to the log store with fsync, applied to a real shard.
@Suite struct ReplicationTests {
    /// A log store and a shard in a temporary directory, driven by a started loop.
    final class Fixture {
        let root = NSTemporaryDirectory() + "periscope-replication-" + UUID().uuidString
        var store: RaftLogStore
        var shard: Shard
        var loop: RaftLoop
        var group: ReplicaGroup<Shard>

        init(shardDirectory: String = "shard-1", tuning: RaftTuning = RaftTuning()) throws {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            store = try RaftLogStore(path: root + "/raft")
            shard = try Shard.open(at: root + "/" + shardDirectory)
            loop = RaftLoop(store: store, tickInterval: .milliseconds(10))
            group = try ReplicaGroup(id: 1, node: 1, members: [1], machine: shard, store: store, loop: loop, tuning: tuning)
            loop.start()
        }

        /// Stops the loop and closes everything, then opens it all again (a clean restart).
        func restart(shardDirectory: String = "shard-1", tuning: RaftTuning = RaftTuning()) throws {
            loop.stop()
            try shard.close()
            try store.close()
            store = try RaftLogStore(path: root + "/raft")
            shard = try Shard.open(at: root + "/" + shardDirectory)
            loop = RaftLoop(store: store, tickInterval: .milliseconds(10))
            group = try ReplicaGroup(id: 1, node: 1, members: [1], machine: shard, store: store, loop: loop, tuning: tuning)
            loop.start()
        }

        func awaitLeader() async -> Bool {
            await waitUntil(group.status.role == .leader)
        }

        deinit {
            loop.stop()
            try? shard.close()
            try? store.close()
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    static func start(_ number: Int) -> ShardCommand {
        .start(VisibilityRecord(key: ExecutionKey(namespaceId: "ns", workflowId: "wf-\(number)", runId: "run-\(number)"), version: 1,
                                workflowType: "Type", taskQueue: "queue", status: .running,
                                startTime: Timestamp(secondsSinceEpoch: 1_790_000_000 + Int64(number))))
    }

    @Test func concurrentProposalsAreCommittedAppliedAndAnsweredWithFewFsyncs() async throws {
        let fixture = try Fixture()
        #expect(await fixture.awaitLeader())
        let fsyncsBefore = fixture.store.counters.fsyncs
        let group = fixture.group
        let results = try await withThrowingTaskGroup(of: (Int, Applied<[ApplyOutcome]>).self) { tasks in
            for number in 0..<200 {
                tasks.addTask { (number, try await group.propose(Self.start(number).encoded())) }
            }
            return try await tasks.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(results.count == 200)
        #expect(results.values.allSatisfy { $0.outcome == [.applied] })
        #expect(Set(results.values.map(\.index)).count == 200, "each proposal has its own log index")
        for number in 0..<200 {
            let key = ExecutionKey(namespaceId: "ns", workflowId: "wf-\(number)", runId: "run-\(number)")
            #expect(try fixture.shard.execution(key)?.key == key)
        }
        // Group commit: proposals arriving during an fsync share the next one.
        let fsyncs = fixture.store.counters.fsyncs - fsyncsBefore
        #expect(fsyncs > 0 && fsyncs < 200, "\(fsyncs) fsyncs for 200 proposals")
        // A second start of the same execution is committed too, and the shard says it ignored it.
        let again = try await group.propose(Self.start(7).encoded())
        #expect(again.outcome == [.ignored(.alreadyExists(storedVersion: 1))])
    }

    @Test func aRestartedNodeRedeliversOnlyWhatItsShardHasNotApplied() async throws {
        let fixture = try Fixture()
        #expect(await fixture.awaitLeader())
        for number in 0..<50 { _ = try await fixture.group.propose(Self.start(number).encoded()) }
        let applied = fixture.shard.appliedIndex
        try fixture.restart()
        #expect(await fixture.awaitLeader())
        #expect(fixture.shard.appliedIndex >= applied)
        let next = try await fixture.group.propose(Self.start(50).encoded())
        #expect(next.outcome == [.applied] && next.index > applied)

        // A shard that lost everything (a fresh directory) is rebuilt from the log alone.
        try fixture.restart(shardDirectory: "shard-empty")
        #expect(await fixture.awaitLeader())
        #expect(await waitUntil(fixture.shard.appliedIndex >= next.index))
        for number in 0...50 {
            #expect(try fixture.shard.execution(ExecutionKey(namespaceId: "ns", workflowId: "wf-\(number)", runId: "run-\(number)")) != nil)
        }
    }

    @Test func aShardAheadOfItsLogIsRefused() async throws {
        let fixture = try Fixture()
        #expect(await fixture.awaitLeader())
        _ = try await fixture.group.propose(Self.start(1).encoded())
        fixture.loop.stop()
        // Another node's shard, applied further than this log has committed.
        let other = NSTemporaryDirectory() + "periscope-other-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: other) }
        let ahead = try Shard.open(at: other)
        try ahead.apply((0..<20).map { Self.start($0) })
        #expect {
            _ = try ReplicaGroup(id: 1, node: 1, members: [1], machine: ahead, store: fixture.store,
                                 loop: RaftLoop(store: fixture.store))
        } throws: { error in
            "\(error)".contains("past the log's commit index")
        }
        try ahead.close()
    }

    @Test func theLogIsCompactedOnlyThroughWhatTheShardMadeDurable() async throws {
        var tuning = RaftTuning()
        tuning.compactAfterEntries = 100
        tuning.compactionKeepsEntries = 10
        let fixture = try Fixture(tuning: tuning)
        #expect(await fixture.awaitLeader())
        for round in 0..<10 {
            let group = fixture.group
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for number in round * 100..<(round + 1) * 100 {
                    tasks.addTask { _ = try await group.propose(Self.start(number).encoded()) }
                }
                try await tasks.waitForAll()
            }
        }
        // (The status is published at the end of the round that answered the proposals.)
        #expect(await waitUntil(fixture.group.status.appliedIndex >= 1_000))
        let status = fixture.group.status
        // 1,000 entries applied; the log holds at most about the last 100 (plus the 10 kept).
        #expect(status.appliedIndex >= 1_000 && status.firstLogIndex > 800, "\(status)")
        #expect(status.appliedIndex - status.firstLogIndex < 110, "\(status)")

        // A restart recovers the compacted log and the shard resumes after what it applied.
        try fixture.restart(tuning: tuning)
        #expect(await fixture.awaitLeader())
        #expect(fixture.group.status.firstLogIndex == status.firstLogIndex || fixture.group.status.firstLogIndex > status.firstLogIndex)
        #expect(try await fixture.group.propose(Self.start(5_000).encoded()).outcome == [.applied])
        for number in [0, 499, 999, 5_000] {
            #expect(try fixture.shard.execution(ExecutionKey(namespaceId: "ns", workflowId: "wf-\(number)", runId: "run-\(number)")) != nil)
        }

        // A shard that lost its data can no longer be rebuilt from this log: refused, saying why.
        #expect {
            try fixture.restart(shardDirectory: "shard-lost", tuning: tuning)
        } throws: { error in
            "\(error)".contains("the entries between are gone")
        }
    }

    /// A shard that reports its applied state durable only up to 500 entries back (as a
    /// store whose syncs lag would): compaction must not pass what it reports.
    final class LaggingDurabilityShard: ReplicatedStateMachine, @unchecked Sendable {
        let shard: Shard
        let lastReported = Mutex<UInt64>(0)
        init(_ shard: Shard) { self.shard = shard }
        var appliedIndex: UInt64 { shard.appliedIndex }
        func apply(_ entries: [CommittedEntry]) throws -> [UInt64: [ApplyOutcome]] { try shard.apply(entries) }
        func takeSnapshot() throws -> MachineSnapshot { try shard.takeSnapshot() }
        func installSnapshot(files: [ExportedFile], in directory: String, at index: UInt64) throws {
            try shard.installSnapshot(files: files, in: directory, at: index)
        }
        func syncApplied() throws -> UInt64 {
            let durable = try shard.syncApplied() - 500
            lastReported.withLock { $0 = durable }
            return durable
        }
    }

    @Test func compactionStopsAtTheIndexTheMachineReportsDurable() async throws {
        let root = NSTemporaryDirectory() + "periscope-replication-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try RaftLogStore(path: root + "/raft")
        let shard = try Shard.open(at: root + "/shard")
        let machine = LaggingDurabilityShard(shard)
        var tuning = RaftTuning()
        tuning.compactAfterEntries = 600
        tuning.compactionKeepsEntries = 10
        let loop = RaftLoop(store: store, tickInterval: .milliseconds(10))
        let group = try ReplicaGroup(id: 1, node: 1, members: [1], machine: machine, store: store, loop: loop, tuning: tuning)
        loop.start()
        #expect(await waitUntil(group.status.role == .leader))
        for number in 0..<1_500 { _ = try await group.propose(Self.start(number).encoded()) }
        #expect(await waitUntil(group.status.appliedIndex >= 1_500))
        let reported = machine.lastReported.withLock { $0 }
        let first = group.status.firstLogIndex
        #expect(reported > 0 && first > 1, "compaction ran")
        #expect(first <= reported - 10 + 1, "the log starts at \(first), past the durable \(reported) less the 10 kept")
        loop.stop()
        try shard.close()
        try store.close()
    }

    /// A shard whose applies wait at a gate the test opens: the loop's thread is held
    /// mid-round while the test queues work and stops the loop.
    final class GatedShard: ReplicatedStateMachine, @unchecked Sendable {
        // @unchecked: `held` is only touched on the loop's thread.
        let shard: Shard
        let entered = DispatchSemaphore(value: 0)
        let gate = DispatchSemaphore(value: 0)
        private var held = false
        init(_ shard: Shard) { self.shard = shard }
        var appliedIndex: UInt64 { shard.appliedIndex }
        func syncApplied() throws -> UInt64 { try shard.syncApplied() }
        func takeSnapshot() throws -> MachineSnapshot { try shard.takeSnapshot() }
        func installSnapshot(files: [ExportedFile], in directory: String, at index: UInt64) throws {
            try shard.installSnapshot(files: files, in: directory, at: index)
        }
        func apply(_ entries: [CommittedEntry]) throws -> [UInt64: [ApplyOutcome]] {
            if !held, entries.contains(where: { !$0.data.isEmpty }) {
                held = true
                entered.signal()
                gate.wait()
            }
            return try shard.apply(entries)
        }
    }

    @Test func stoppingAnswersEveryProposalAndRefusesNewOnes() async throws {
        let root = NSTemporaryDirectory() + "periscope-replication-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try RaftLogStore(path: root + "/raft")
        let shard = try Shard.open(at: root + "/shard")
        let machine = GatedShard(shard)
        let loop = RaftLoop(store: store, tickInterval: .milliseconds(10), drainRoundsMax: 0)
        let group = try ReplicaGroup(id: 1, node: 1, members: [1], machine: machine, store: store, loop: loop)
        loop.start()
        #expect(await waitUntil(group.status.role == .leader))

        // The first proposal holds the loop in its apply; ten more queue behind it.
        let first = Task { try await group.propose(Self.start(0).encoded()) }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { machine.entered.wait(); continuation.resume() }
        }
        let queued = (1...10).map { number in
            Task { () -> ReplicationError? in
                do {
                    _ = try await group.propose(Self.start(number).encoded())
                    return nil
                } catch {
                    return error as? ReplicationError
                }
            }
        }
        try await Task.sleep(for: .milliseconds(50))  // let them reach the queue
        let stopped = Task.detached { loop.stop() }
        try await Task.sleep(for: .milliseconds(50))  // stop() is waiting for the loop
        machine.gate.signal()
        await stopped.value

        // The held proposal finishes; the queued ones were persisted but never applied (no
        // drain rounds): each is answered `.stopped`, an unknown outcome, not left hanging.
        let firstOutcome = try await first.value.outcome
        #expect(firstOutcome == [.applied])
        for task in queued { #expect(await task.value == .stopped) }
        await #expect(throws: ReplicationError.stopped) { _ = try await group.propose(Self.start(1_000).encoded()) }
        try shard.close()
        try store.close()
    }

    @Test func anOversizedProposalIsRefusedWithItsSize() async throws {
        var tuning = RaftTuning()
        tuning.proposalBytesMax = 1_024
        let fixture = try Fixture(tuning: tuning)
        #expect(await fixture.awaitLeader())
        await #expect {
            _ = try await fixture.group.propose([UInt8](repeating: 1, count: 4_096))
        } throws: { error in
            guard case ReplicationError.refused(let group, let reason) = error else { return false }
            return group == 1 && reason.contains("exceeds the limit of 1024 bytes")
        }
        // The group still takes proposals that fit.
        #expect(try await fixture.group.propose(Self.start(1).encoded()).outcome == [.applied])
    }
}
