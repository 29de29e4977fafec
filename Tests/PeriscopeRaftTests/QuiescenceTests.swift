import Testing
@testable import PeriscopeRaft

/// Idle groups go quiet: after `quiesceAfterTicks` idle ticks the leader sends one last
/// heartbeat and every member stops ticking; activity wakes them; a woken follower whose
/// leader is gone elects another.
@Suite struct QuiescenceTests {
    static let config = RaftConfig(id: 1, electionTicks: 10, heartbeatTicks: 1, quiesceAfterTicks: 20)

    @Test func anIdleGroupSendsNothingUntilAProposal() throws {
        let cluster = TestCluster(voters: 3, config: Self.config)
        cluster.elect(1)
        try cluster.nodes[1]!.propose([7])
        cluster.stabilize()
        cluster.tick(25)
        #expect(cluster.nodes.values.allSatisfy { $0.isQuiesced }, "every member is quiet after 20 idle ticks")
        cluster.sent = []
        cluster.tick(100)
        #expect(cluster.sent.isEmpty, "a quiet group sends nothing: \(cluster.sent.prefix(3))")
        #expect(cluster.nodes[1]!.role == .leader && cluster.nodes[2]!.leader == 1)

        // A proposal wakes the leader, its append the followers; the group commits as usual.
        try cluster.nodes[1]!.propose([8])
        cluster.stabilize()
        #expect(cluster.nodes.values.allSatisfy { !$0.isQuiesced })
        #expect(cluster.appliedData(3).last == [8])
        // And a follower's read wakes the leader too.
        cluster.tick(25)
        #expect(cluster.nodes.values.allSatisfy { $0.isQuiesced })
        try cluster.nodes[3]!.readIndex(requestID: 9)
        cluster.stabilize()
        #expect(cluster.readStates[3]?.last?.requestID == 9)
    }

    @Test func aGroupWithAPendingReadOrABehindMemberStaysAwake() throws {
        let cluster = TestCluster(voters: 3, config: Self.config)
        cluster.elect(1)
        // Node 3 cannot hear the leader: its log falls behind, so the group must not go quiet.
        cluster.cut.insert([1, 3])
        try cluster.nodes[1]!.propose([1])
        cluster.stabilize()
        cluster.tick(40)
        #expect(!cluster.nodes[1]!.isQuiesced)
        cluster.healAll()
        cluster.tick(40)
        #expect(cluster.nodes.values.allSatisfy { $0.isQuiesced })
    }

    @Test func wokenFollowersReplaceADeadLeader() throws {
        let cluster = TestCluster(voters: 3, config: Self.config)
        cluster.elect(1)
        cluster.tick(25)
        #expect(cluster.nodes.values.allSatisfy { $0.isQuiesced })
        cluster.crash(1)
        cluster.tick(100)
        #expect(cluster.leader == nil, "quiet followers do not notice a dead leader by themselves")
        // The owner (the transport) lost touch with node 1: the followers tick again.
        cluster.nodes[2]!.wake()
        cluster.nodes[3]!.wake()
        cluster.tick(40)
        #expect(cluster.leader.map { $0.id == 2 || $0.id == 3 } == true)
    }

    @Test func aRestartedMemberLearnsTheLeaderOfAQuietGroup() throws {
        let cluster = TestCluster(voters: 3, config: Self.config)
        cluster.elect(1)
        cluster.tick(25)
        cluster.crash(3)
        cluster.start(3)
        // It hears nothing, campaigns (pre-vote); that wakes the leader, whose heartbeats it then follows.
        cluster.tick(60)
        #expect(cluster.nodes[3]!.leader == 1 && cluster.nodes[1]!.role == .leader)
    }
}
