import Testing
@testable import PeriscopeRaft

@Suite struct MembershipTests {
    @Test func aLearnerCatchesUpBySnapshotThenIsPromotedToVoter() throws {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        for value in 0..<30 { try cluster.nodes[1]!.propose([UInt8(value)]) }
        cluster.stabilize()
        // Compact the leader's log so the newcomer needs a snapshot.
        let disk = cluster.disks[1]!
        let applied = cluster.nodes[1]!.appliedIndex
        try disk.createSnapshot(at: applied, confState: cluster.nodes[1]!.confState, data: [0xAB])
        try disk.compact(through: applied)

        cluster.addEmpty(4)
        try cluster.nodes[1]!.proposeConfChange(ConfChange(.addLearner, node: 4))
        cluster.tick(3)
        #expect(cluster.nodes[1]!.confState.learners == [4])
        #expect(cluster.disks[4]!.snapshot.metadata.index == applied, "the learner received the snapshot")
        #expect(cluster.nodes[4]!.appliedIndex == cluster.nodes[1]!.appliedIndex)
        #expect(cluster.nodes[4]!.role == .follower)

        try cluster.nodes[1]!.proposeConfChange(ConfChange(.addVoter, node: 4))
        cluster.tick(2)
        #expect(cluster.nodes[1]!.confState.voters == [1, 2, 3, 4])
        #expect(cluster.nodes[4]!.confState.voters == [1, 2, 3, 4])
        // Four voters: a quorum is three, so two nodes down stops commits.
        cluster.isolate(2)
        cluster.isolate(3)
        let before = cluster.nodes[1]!.committedIndex
        try cluster.nodes[1]!.propose([99])
        cluster.stabilize()
        #expect(cluster.nodes[1]!.committedIndex == before)
    }

    @Test func oneChangeAtATimeAndNotBeforeTheLeadersFirstCommit() throws {
        let config = RaftConfig(id: 1, electionTicks: 10, heartbeatTicks: 1, preVote: false)
        let cluster = TestCluster(voters: 3, config: config)
        let candidate = cluster.nodes[1]!
        candidate.campaign()
        // Carry the votes by hand so the new leader's empty entry is not yet committed.
        let campaign = candidate.ready()
        cluster.disks[1]!.persist(campaign)
        candidate.advance(campaign)
        for request in campaign.messages where request.kind == .vote {
            let voter = cluster.nodes[request.to]!
            voter.step(request)
            let answer = voter.ready()
            cluster.disks[request.to]!.persist(answer)
            answer.messagesAfterPersist.forEach(candidate.step)
            voter.advance(answer)
        }
        #expect(candidate.role == .leader)
        #expect(throws: RaftError.confChangePending(index: 2)) {
            try candidate.proposeConfChange(ConfChange(.addLearner, node: 4))
        }
        cluster.stabilize()
        cluster.addEmpty(4)
        try candidate.proposeConfChange(ConfChange(.addLearner, node: 4))
        #expect(throws: RaftError.confChangePending(index: 3)) {
            try candidate.proposeConfChange(ConfChange(.addLearner, node: 5))
        }
        cluster.stabilize()
        #expect(throws: RaftError.invalidConfChange("node 4 is already a learner")) {
            try candidate.proposeConfChange(ConfChange(.addLearner, node: 4))
        }
        #expect(throws: RaftError.invalidConfChange("node 8 is not a member")) {
            try candidate.proposeConfChange(ConfChange(.removeNode, node: 8))
        }
    }

    @Test func aLeaderThatRemovesItselfHandsOverWithoutAnElectionTimeout() throws {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        try cluster.nodes[1]!.proposeConfChange(ConfChange(.removeNode, node: 1))
        cluster.stabilize()
        #expect(cluster.nodes[1]!.role == .follower)
        let successor = try #require(cluster.leader, "a successor campaigned at once (TimeoutNow), no ticks needed")
        #expect(successor.confState.voters == [2, 3])
        try successor.propose([5])
        cluster.stabilize()
        #expect(cluster.appliedData(2).last == [5] && cluster.appliedData(3).last == [5])
    }

    @Test func confChangesEncodeAndRejectGarbage() {
        let change = ConfChange(.addVoter, node: 0x0102_0304_0506_0708)
        #expect(ConfChange(encoded: change.encoded()) == change)
        #expect(ConfChange(encoded: [9, 0, 0, 0, 0, 0, 0, 0, 1]) == nil, "unknown kind")
        #expect(ConfChange(encoded: [1, 0]) == nil, "truncated")
        #expect(ConfChange(encoded: [1, 0, 0, 0, 0, 0, 0, 0, 0]) == nil, "node 0 is no node")
    }
}
