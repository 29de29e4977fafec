import Testing
import PeriscopeRaft
@testable import PeriscopeRaftSimulator

/// The simulator itself: deterministic, and able to fail. (The sweep over many seeds runs
/// through the CLI in PeriscopeCLITests, in its own process.)
@Suite struct SimulatorTests {
    @Test func aSeedReplaysExactly() {
        let first = ClusterSimulation(config: .forSeed(77, chaosTicks: 400)).run()
        let second = ClusterSimulation(config: .forSeed(77, chaosTicks: 400)).run()
        #expect(first.description == second.description)
        let other = ClusterSimulation(config: .forSeed(78, chaosTicks: 400)).run()
        #expect(first.description != other.description)
    }

    @Test(arguments: [3, 11, 42, 1234])
    func faultyRunsKeepEveryProperty(seed: UInt64) {
        let report = ClusterSimulation(config: .forSeed(seed, chaosTicks: 600)).run()
        #expect(report.violations.isEmpty, "\(report)")
        #expect(report.proposalsAcknowledged > 0)
    }

    @Test func theCheckerCatchesDivergentApplies() {
        var checker = InvariantChecker()
        let start = ReplicaStateMachine.genesis
        var one = start, two = start
        let a = Entry(term: 2, index: 2, data: [1])
        let b = Entry(term: 2, index: 2, data: [2])
        one.apply(a)
        two.apply(b)
        checker.entryApplied(a, on: 1, before: start, after: one)
        #expect(checker.violations.isEmpty)
        checker.entryApplied(b, on: 2, before: start, after: two)
        #expect(checker.violations.count == 1)
    }

    @Test func theCheckerCatchesTwoLeadersInATermAndAStaleRead() {
        var checker = InvariantChecker()
        checker.leaderElected(1, term: 5, termAt: { _ in nil }, lastIndex: 10)
        checker.leaderElected(2, term: 5, termAt: { _ in nil }, lastIndex: 10)
        checker.readAnswered(on: 3, index: 4, floor: 6)
        checker.entryPersisted(Entry(term: 3, index: 7, data: [1]), previousTerm: 3, on: 1)
        checker.entryPersisted(Entry(term: 3, index: 7, data: [1]), previousTerm: 2, on: 2)
        #expect(checker.violations.count == 3, "\(checker.violations)")
    }
}
