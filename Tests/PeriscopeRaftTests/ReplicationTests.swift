import Testing
@testable import PeriscopeRaft

@Suite struct ReplicationTests {
    @Test func proposalsReplicateCommitAndApplyInOrderEverywhere() throws {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        for value in 0..<50 { try cluster.nodes[1]!.propose([UInt8(value)]) }
        cluster.stabilize()
        let expected = (0..<50).map { [UInt8($0)] }
        for id: NodeID in [1, 2, 3] { #expect(cluster.appliedData(id) == expected) }
    }

    @Test func proposalsOfOneTurnShareOneAppendPerFollower() throws {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.sent = []
        for value in 0..<20 { try cluster.nodes[1]!.propose([UInt8(value)]) }
        let ready = cluster.nodes[1]!.ready()
        let appends = ready.messages.filter { $0.kind == .append }
        #expect(appends.count == 2, "one append per follower carries all 20 entries")
        #expect(appends.allSatisfy { $0.entries.count == 20 })
        #expect(ready.committedEntries.isEmpty, "nothing commits before the leader's own fsync")
        cluster.nodes[1]!.advance(ready)
    }

    @Test func followerAcknowledgementsWaitForTheirFsync() throws {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        try cluster.nodes[1]!.propose([7])
        let leaderReady = cluster.nodes[1]!.ready()
        let append = try #require(leaderReady.messages.first { $0.kind == .append && $0.to == 2 })
        cluster.nodes[2]!.step(append)
        let followerReady = cluster.nodes[2]!.ready()
        #expect(followerReady.messages.allSatisfy { $0.kind != .appendResponse })
        #expect(followerReady.messagesAfterPersist.contains { $0.kind == .appendResponse && !$0.reject })
        #expect(followerReady.mustSync)
        cluster.nodes[2]!.advance(followerReady)
        cluster.nodes[1]!.advance(leaderReady)
    }

    @Test func theInflightWindowBoundsPipelining() throws {
        var config = RaftConfig(id: 1, electionTicks: 10, heartbeatTicks: 1, messageBytesMax: 1, inflightMessagesMax: 4)
        config.messageBytesMax = 1  // one entry per append
        let cluster = TestCluster(voters: 3, config: config)
        cluster.elect(1)
        cluster.isolate(2)
        cluster.isolate(3)
        for value in 0..<20 { try cluster.nodes[1]!.propose([UInt8(value)]) }
        cluster.sent = []
        cluster.stabilize()
        let appendsTo2 = cluster.sent.filter { $0.kind == .append && $0.to == 2 }
        #expect(appendsTo2.count <= 4, "no more than the window is in flight unanswered (\(appendsTo2.count))")
        cluster.healAll()
        cluster.tick(3)
        #expect(cluster.appliedData(2).count == 20)
    }

    @Test func aDivergentFollowerLogIsRepairedByTheNewLeader() throws {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        // Node 1 appends entries only it holds, then loses leadership to node 2.
        cluster.isolate(1)
        for value in 0..<5 { try cluster.nodes[1]!.propose([100 + UInt8(value)]) }
        cluster.stabilize()
        cluster.tick(30)
        let newLeader = try #require(cluster.leader)
        #expect(newLeader.id != 1)
        try newLeader.propose([1])
        cluster.stabilize()
        cluster.healAll()
        cluster.tick(5)
        #expect(cluster.appliedData(1) == [[1]], "the uncommitted entries were replaced, never applied")
        #expect(cluster.disks[1]!.lastIndex == cluster.disks[newLeader.id]!.lastIndex)
    }

    @Test func proposalsAreRefusedWithAReason() throws {
        var config = RaftConfig(id: 1, electionTicks: 10, heartbeatTicks: 1)
        config.proposalBytesMax = 100
        config.uncommittedBytesMax = 300
        let cluster = TestCluster(voters: 3, config: config)
        cluster.elect(1)
        #expect(throws: RaftError.notLeader(leader: 1)) { try cluster.nodes[2]!.propose([1]) }
        #expect(throws: RaftError.proposalTooLarge(bytes: 101, limit: 100)) { try cluster.nodes[1]!.propose(Array(repeating: 0, count: 101)) }
        cluster.isolate(1)
        var refusal: RaftError?
        for _ in 0..<10 {
            do { try cluster.nodes[1]!.propose(Array(repeating: 0, count: 90)) } catch { refusal = error; break }
        }
        guard case .uncommittedLimitReached = refusal else {
            Issue.record("expected back-pressure once uncommitted bytes pass the limit, got \(String(describing: refusal))")
            return
        }
        #expect(RaftError.notLeader(leader: nil).description.contains("no leader is known"))
    }
}
