@testable import PeriscopeNode
import Testing

/// When a node is low on disk and what it does with its reserve file.
@Suite struct DiskSpacePolicyTests {
    let policy = DiskSpacePolicy(floorBytes: 100, reserveBytes: 30)

    @Test func lowBelowTheFloorAndTheReserveIsReleased() {
        #expect(policy.decide(freeBytes: 500, reserveHeld: true, wasLow: false) == .init(low: false, releaseReserve: false, takeReserve: false))
        #expect(policy.decide(freeBytes: 99, reserveHeld: true, wasLow: false) == .init(low: true, releaseReserve: true, takeReserve: false))
        // Released already: still low, nothing more to release.
        #expect(policy.decide(freeBytes: 29, reserveHeld: false, wasLow: true) == .init(low: true, releaseReserve: false, takeReserve: false))
    }

    @Test func recoveryNeedsRoomForTheFloorAndTheReserve() {
        // Above the floor but not above floor + reserve: still low (taking the reserve back
        // would make it low again at once).
        #expect(policy.decide(freeBytes: 110, reserveHeld: false, wasLow: true).low)
        #expect(policy.decide(freeBytes: 130, reserveHeld: false, wasLow: true) == .init(low: false, releaseReserve: false, takeReserve: true))
        // Not low before, with the same free space: not low.
        #expect(!policy.decide(freeBytes: 110, reserveHeld: true, wasLow: false).low)
    }

    @Test func theReserveIsTakenOnlyWithRoomForIt() {
        #expect(policy.decide(freeBytes: 129, reserveHeld: false, wasLow: false) == .init(low: false, releaseReserve: false, takeReserve: false))
        #expect(policy.decide(freeBytes: 1_000, reserveHeld: false, wasLow: false).takeReserve)
        let off = DiskSpacePolicy(floorBytes: 0, reserveBytes: 0)
        #expect(off.decide(freeBytes: 0, reserveHeld: false, wasLow: false) == .init(low: false, releaseReserve: false, takeReserve: false))
    }
}
