@testable import PeriscopeNode
import Testing

/// The region map's rules: one membership change at a time, each step from the state
/// before it, bounded membership, and refusals that say what to do.
@Suite struct RegionMapTests {
    static let three = RegionMap(initial: [.init(nodeID: 1, address: "h1:1"), .init(nodeID: 2, address: "h2:1"),
                                           .init(nodeID: 3, address: "h3:1")])

    static func refusal(_ map: RegionMap, _ command: RegionMapCommand) -> CatalogRefusal? {
        do {
            _ = try map.applying(command)
            return nil
        } catch {
            return error
        }
    }

    @Test func aNodeJoinsThenAnotherLeaves() throws {
        var map = Self.three
        map = try map.applying(.add(nodeID: 4, address: "h4:1"))
        #expect(map.member(4)?.state == .joining && map.changing?.nodeID == 4 && map.version == 2)
        #expect(map.activeIDs == [1, 2, 3])
        #expect(Self.refusal(map, .leave(nodeID: 2))?.code == .failedPrecondition, "one change at a time")
        #expect(Self.refusal(map, .add(nodeID: 5, address: "h5:1"))?.code == .failedPrecondition)
        map = try map.applying(.activate(nodeID: 4))
        #expect(map.changing == nil && map.activeIDs == [1, 2, 3, 4])
        map = try map.applying(.leave(nodeID: 2))
        #expect(map.member(2)?.state == .leaving)
        #expect(try map.applying(.leave(nodeID: 2)) == map, "repeating a leave changes nothing")
        #expect(Self.refusal(map, .activate(nodeID: 2))?.code == .failedPrecondition)
        map = try map.applying(.remove(nodeID: 2))
        #expect(map.members.map(\.nodeID) == [1, 3, 4] && map.version == 5)
    }

    @Test func refusalsNameWhatIsWrong() throws {
        #expect(Self.refusal(Self.three, .add(nodeID: 2, address: "h9:1"))?.code == .alreadyExists)
        #expect(Self.refusal(Self.three, .add(nodeID: 9, address: "h1:1"))?.message.contains("node 1's") == true)
        #expect(Self.refusal(Self.three, .add(nodeID: 0, address: "h0:1"))?.code == .invalidArgument)
        #expect(Self.refusal(Self.three, .leave(nodeID: 9))?.code == .notFound)
        #expect(Self.refusal(Self.three, .remove(nodeID: 1))?.code == .failedPrecondition, "only a leaving node is removed")
        let alone = RegionMap(initial: [.init(nodeID: 1, address: "h1:1")])
        #expect(Self.refusal(alone, .leave(nodeID: 1))?.message.contains("last active member") == true)
        var full = Self.three
        for id in UInt64(4)...7 {
            full = try full.applying(.add(nodeID: id, address: "h\(id):1"))
            full = try full.applying(.activate(nodeID: id))
        }
        #expect(Self.refusal(full, .add(nodeID: 8, address: "h8:1"))?.message.contains("at most 7") == true)
        // A joining node may be removed: that abandons its join.
        let joining = try Self.three.applying(.add(nodeID: 4, address: "h4:1"))
        #expect(try joining.applying(.leave(nodeID: 4)).member(4)?.state == .leaving)
    }
}
