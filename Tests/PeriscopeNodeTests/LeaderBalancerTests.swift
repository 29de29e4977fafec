@testable import PeriscopeNode
import Testing

/// The balancing rule: move one leadership from this node to the member leading fewest
/// only when the gap is two or more, and only to an eligible replica.
@Suite struct LeaderBalancerTests {
    @Test func movesFromTheBusiestToTheIdlest() {
        let move = LeaderBalancer.nextMove(leaders: [3, 3, 3, 3], members: [1, 2, 3], selfID: 3) { _, _ in true }
        #expect(move?.shard == 0 && move?.to == 1)
    }

    @Test func aGapOfOneIsBalanced() {
        #expect(LeaderBalancer.nextMove(leaders: [1, 2, 3, 3], members: [1, 2, 3], selfID: 3) { _, _ in true } == nil)
        // Only the leader moves its own leadership.
        #expect(LeaderBalancer.nextMove(leaders: [3, 3, 3, 3], members: [1, 2, 3], selfID: 1) { _, _ in true } == nil)
    }

    @Test func skipsReplicasThatCannotTakeOver() {
        // Node 1's replicas are behind: node 2 (also idle) takes shard 1, the first it can.
        let move = LeaderBalancer.nextMove(leaders: [3, 3, 3, nil], members: [1, 2, 3], selfID: 3) { shard, member in
            member == 2 && shard >= 1
        }
        #expect(move?.shard == 1 && move?.to == 2)
        #expect(LeaderBalancer.nextMove(leaders: [3, 3, 3], members: [1, 2, 3], selfID: 3) { _, _ in false } == nil)
    }

    @Test func aMemberNotHeardFromRecentlyCannotTakeOver() {
        var status = ReplicaStatus(role: .leader, term: 2, leader: 1, committedIndex: 50, appliedIndex: 50, firstLogIndex: 1)
        status.voters = [1, 2, 3]
        status.matched = [2: 50, 3: 50]
        status.lastLogIndex = 50
        #expect(LeaderBalancer.canTakeOver(status, member: 3, isResponsive: true))
        // Connected but silent (a paused process keeps its socket): not given a leadership.
        #expect(!LeaderBalancer.canTakeOver(status, member: 3, isResponsive: false))
        status.matched[3] = 10
        status.lastLogIndex = 200
        #expect(!LeaderBalancer.canTakeOver(status, member: 3, isResponsive: true))
    }
}
