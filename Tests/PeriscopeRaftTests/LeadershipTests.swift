import Testing
@testable import PeriscopeRaft

@Suite struct LeadershipTests {
    @Test func quorumConfirmedReadIndexAnswersAfterAHeartbeatRound() throws {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        try cluster.nodes[1]!.propose([1])
        cluster.stabilize()
        try cluster.nodes[1]!.readIndex(requestID: 42)
        cluster.stabilize()
        #expect(cluster.readStates[1]?.last == ReadState(requestID: 42, index: 3))
        // A follower's read is forwarded to the leader and answered with the leader's commit.
        try cluster.nodes[3]!.readIndex(requestID: 7)
        cluster.stabilize()
        #expect(cluster.readStates[3]?.last == ReadState(requestID: 7, index: 3))
    }

    @Test func aCutOffLeaderCannotConfirmAReadIndex() throws {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.isolate(1)
        try cluster.nodes[1]!.readIndex(requestID: 1)
        cluster.stabilize()
        #expect(cluster.readStates[1]?.isEmpty ?? true, "no quorum answered, so no read index")
    }

    @Test func leaseReadsNeedARecentQuorumAcknowledgement() throws {
        let config = RaftConfig(id: 1, electionTicks: 10, heartbeatTicks: 1, readMode: .leaseBased)
        let cluster = TestCluster(voters: 3, config: config)
        cluster.tick(12)  // past the startup quiet period in which restarted voters stay silent
        cluster.elect(1)
        cluster.tick(2)
        let leader = try #require(cluster.leader)
        try leader.readIndex(requestID: 5)
        let ready = leader.ready()
        #expect(ready.readStates.map(\.requestID) == [5], "answered from the lease, with no round trip")
        leader.advance(ready)
        // Cut off for longer than the lease: reads fall back to confirmation, which cannot come.
        cluster.isolate(leader.id)
        cluster.tick(9)
        try leader.readIndex(requestID: 6)
        cluster.stabilize()
        #expect(!(cluster.readStates[leader.id] ?? []).contains { $0.requestID == 6 })
    }

    @Test func leadershipTransferHandsOverOnceTheTargetIsCaughtUp() throws {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        try cluster.nodes[1]!.transferLeadership(to: 3)
        cluster.stabilize()
        #expect(cluster.nodes[3]!.role == .leader)
        #expect(cluster.nodes[1]!.role == .follower && cluster.nodes[1]!.leader == 3)
        #expect(throws: RaftError.invalidTransferTarget(9)) { try cluster.nodes[3]!.transferLeadership(to: 9) }
    }

    @Test func proposalsWaitWhileATransferIsUnderWayAndItTimesOut() throws {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.isolate(3)
        try cluster.nodes[1]!.transferLeadership(to: 3)
        #expect(throws: RaftError.transferInProgress(to: 3)) { try cluster.nodes[1]!.propose([1]) }
        cluster.healAll()
        cluster.isolate(3)
        cluster.tick(11)
        cluster.healAll()
        // The unreachable target never took over; after an election timeout proposals flow again.
        #expect(cluster.nodes[1]!.role == .leader)
        try cluster.nodes[1]!.propose([1])
    }
}
