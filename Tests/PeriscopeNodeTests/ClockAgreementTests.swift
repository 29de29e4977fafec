@testable import PeriscopeNode
import PeriscopeModel
import Testing

/// The time a node stamps retention horizons and delete tombstones with: its own clock while
/// a majority agrees with it, the majority's when its own is off, none when it cannot tell.
@Suite struct ClockAgreementTests {
    static let second: Int64 = 1_000_000_000
    static let days5 = 5 * 86_400 * second
    let start = ContinuousClock.now
    /// This node's wall clock at `start`.
    static let wall: Int64 = 1_800_000_000 * 1_000_000_000

    func agreement(_ offsets: [String: Int64], uncertainty: Int64 = 1_000_000, age: Duration = .zero) -> ClockAgreement {
        var agreement = ClockAgreement(maxOffset: .milliseconds(500), freshFor: .seconds(60))
        for (peer, offset) in offsets {
            agreement.record(.init(offsetNanoseconds: offset, uncertaintyNanoseconds: uncertainty, takenAt: start - age,
                                   localWallNanoseconds: Self.wall - age.nanoseconds), from: peer)
        }
        return agreement
    }

    @Test func aNodeAloneTrustsItsOwnClock() {
        #expect(agreement([:]).judge(members: 1, now: start, wallNow: Self.wall) == .agreed(correctionNanoseconds: 0))
    }

    @Test func smallDifferencesNeedNoCorrection() {
        let judged = agreement(["2": 200_000_000, "3": -300_000_000]).judge(members: 3, now: start, wallNow: Self.wall)
        #expect(judged == .agreed(correctionNanoseconds: 0))
    }

    @Test func aNodeDaysBehindUsesTheOthersTime() {
        // Both peers read 5 days ahead of this node: this node's clock is the odd one.
        let judged = agreement(["2": Self.days5, "3": Self.days5 + 40_000_000]).judge(members: 3, now: start, wallNow: Self.wall)
        #expect(judged == .agreed(correctionNanoseconds: Self.days5))
        // Days ahead, in a region of five.
        let five = agreement(["2": -Self.days5, "3": -Self.days5, "4": -Self.days5 + 1_000_000, "5": -Self.days5]).judge(members: 5, now: start, wallNow: Self.wall)
        #expect(five == .agreed(correctionNanoseconds: -Self.days5))
    }

    @Test func onePeerOffDoesNotMoveTheRegionsTime() {
        #expect(agreement(["2": Self.days5, "3": 10_000_000]).judge(members: 3, now: start, wallNow: Self.wall) == .agreed(correctionNanoseconds: 0))
        #expect(agreement(["2": -Self.days5, "3": Self.days5, "4": 0, "5": 1_000_000]).judge(members: 5, now: start, wallNow: Self.wall) == .agreed(correctionNanoseconds: 0))
    }

    @Test func withoutAMajorityMeasuredThereIsNoTime() {
        // Cut off: no peer answered.
        guard case .unknown(let why) = agreement([:]).judge(members: 3, now: start, wallNow: Self.wall) else { Issue.record("a cut-off node stamped"); return }
        #expect(why.contains("measured the clocks of 0 other members of 2"), "\(why)")
        // Measured once, long ago: the clocks may have drifted since.
        let stale = agreement(["2": 0, "3": 0], age: .seconds(61)).judge(members: 3, now: start, wallNow: Self.wall)
        #expect(stale != .agreed(correctionNanoseconds: 0))
    }

    @Test func disagreeingClocksGiveNoTime() {
        // One peer answers, days off: which of the two is wrong cannot be told.
        guard case .unknown(let why) = agreement(["2": Self.days5]).judge(members: 3, now: start, wallNow: Self.wall) else {
            Issue.record("two disagreeing clocks of three gave a time")
            return
        }
        #expect(why.contains("disagree"), "\(why)")
        // Three clocks, each far from the others.
        #expect(agreement(["2": Self.days5, "3": -Self.days5]).judge(members: 3, now: start, wallNow: Self.wall) != .agreed(correctionNanoseconds: 0))
    }

    @Test func aSlowRoundTripWidensWhatAgrees() {
        // 0.7 s off, measured over a 1 s round trip (± 0.5 s): it may well agree.
        let judged = agreement(["2": 700_000_000, "3": 700_000_000], uncertainty: 500_000_000).judge(members: 3, now: start, wallNow: Self.wall)
        #expect(judged == .agreed(correctionNanoseconds: 0))
        // Measured precisely, the same offset on both peers: this node is the one off.
        #expect(agreement(["2": 700_000_000, "3": 700_000_000]).judge(members: 3, now: start, wallNow: Self.wall) == .agreed(correctionNanoseconds: 700_000_000))
    }

    @Test func aJumpOfThisNodesClockCountsAtOnce() {
        // Measured a second ago, all in agreement; since then this node's clock jumped 5 days
        // ahead (the wall clock gained 5 days on the monotonic one): judged off at once, not
        // at the next measurement.
        let measured = agreement(["2": 0, "3": 0], age: .seconds(1))
        let jumped = measured.judge(members: 3, now: start, wallNow: Self.wall + Self.days5)
        #expect(jumped == .agreed(correctionNanoseconds: -Self.days5))
        #expect(measured.judge(members: 3, now: start, wallNow: Self.wall) == .agreed(correctionNanoseconds: 0))
    }

    @Test func withAnEvenCountEitherMiddleMayBeTheMedian() {
        // Five members, one not measured: the lower middle (0) has 2 within 0.5 s, the upper
        // (0.4 s) has 3: a majority, and within the bound of this node's clock.
        let judged = agreement(["2": -Self.days5, "3": 400_000_000, "4": 800_000_000]).judge(members: 5, now: start, wallNow: Self.wall)
        #expect(judged == .agreed(correctionNanoseconds: 0))
    }

    @Test func garbageOffsetsAreDroppedNotComputedWith() {
        // A peer answering a time 158 years off is not a clock: left out, the other two agree.
        let judged = agreement(["2": 0, "3": 5_000_000_000_000_000_000]).judge(members: 3, now: start, wallNow: Self.wall)
        #expect(judged == .agreed(correctionNanoseconds: 0))
        // This node's own wall clock read as nonsense: no sample can be carried over to it.
        #expect(agreement(["2": 0, "3": 0]).judge(members: 3, now: start, wallNow: .min) != .agreed(correctionNanoseconds: 0))
    }

    @Test func membersThatLeftAreForgotten() {
        var kept = agreement(["2": 0, "3": 0, "9": Self.days5])
        kept.keep(only: ["2", "3"])
        #expect(Set(kept.samples.keys) == ["2", "3"])
    }
}
