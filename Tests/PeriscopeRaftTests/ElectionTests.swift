import Testing
@testable import PeriscopeRaft
import PeriscopeTestSupport

@Suite struct ElectionTests {
    @Test func aCampaignWinsAndTheLeaderCommitsAnEntryOfItsTerm() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        #expect(cluster.nodes[1]!.role == .leader)
        #expect(cluster.nodes[2]!.leader == 1 && cluster.nodes[3]!.leader == 1)
        // The new leader's empty entry commits and is applied everywhere.
        for id: NodeID in [1, 2, 3] { #expect(cluster.nodes[id]!.committedIndex == 2) }
        #expect(cluster.nodes[1]!.term == 2)
    }

    @Test func electionTimeoutsAreRandomizedAndAFollowerEventuallyCampaigns() {
        let cluster = TestCluster(voters: 3)
        cluster.tick(25)  // between electionTicks and 2×electionTicks, someone times out
        #expect(cluster.leader != nil)
        #expect(cluster.nodes.values.filter { $0.role == .leader }.count == 1)
    }

    @Test func preVoteKeepsAnIsolatedNodeFromInflatingItsTerm() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.isolate(3)
        cluster.tick(100)
        // Without pre-vote node 3 would have campaigned ~5 times, each raising its term.
        #expect(cluster.nodes[3]!.term == 2)
        #expect(cluster.nodes[3]!.role == .preCandidate || cluster.nodes[3]!.role == .follower)
        cluster.healAll()
        cluster.tick(5)
        #expect(cluster.nodes[1]!.role == .leader, "the rejoining node does not depose a healthy leader")
        #expect(cluster.nodes[1]!.term == 2)
    }

    @Test func withoutPreVoteTheIsolatedNodeRaisesItsTermAndDisruptsOnReturn() {
        var config = RaftConfig(id: 1, electionTicks: 10, heartbeatTicks: 1, preVote: false, checkQuorum: false)
        config.preVote = false
        let cluster = TestCluster(voters: 3, config: config)
        cluster.elect(1)
        cluster.isolate(3)
        cluster.tick(100)
        #expect(cluster.nodes[3]!.term > 4, "the control: the property above is pre-vote's doing")
    }

    @Test func checkQuorumMakesACutOffLeaderStepDown() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.isolate(1)
        cluster.tick(25)
        #expect(cluster.nodes[1]!.role != .leader)
        #expect(cluster.leader.map { $0.id != 1 } == true, "the majority elected someone else")
    }

    @Test func aStaleLogLosesTheElection() throws {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.isolate(3)
        try cluster.nodes[1]!.propose([1])
        cluster.stabilize()
        cluster.healAll()
        // Node 3 misses the entry; a campaign from it is refused by both up-to-date voters.
        var config = cluster.baseConfig
        config.preVote = false
        config.checkQuorum = false
        config.id = 3
        cluster.nodes[3] = RaftNode(config: config, storage: cluster.disks[3]!, random: SeededRandom(seed: 9))
        cluster.nodes[3]!.campaign()
        cluster.stabilize()
        #expect(cluster.nodes[3]!.role != .leader)
    }
}
