import Foundation

/// The region's members as its own Raft group (`RegionMapMachine`, group 2) holds them:
/// each node's id, where it listens and where it stands in a membership change. Every group
/// of the region has a replica on each member (the replication factor is the member
/// count); which replicas a group has at a given moment is that group's own Raft
/// configuration, the authority on it. The map says what the membership controller is
/// driving the groups towards. Pure: the same commands give the same map on every replica.
public struct RegionMap: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        /// Added: being made a learner of every group, then a voter once caught up.
        case joining
        case active
        /// Being removed from every group; then it leaves the map.
        case leaving
    }

    public struct Member: Codable, Sendable, Equatable {
        public var nodeID: UInt64
        /// host:port of the node's HTTP/2 listener.
        public var address: String
        public var state: State
    }

    /// Increases with every change (the admin service's shard map version).
    public var version: UInt64
    /// By node id.
    public var members: [Member]

    public static let membersMax = 7

    /// The map a region starts with: its first members, all active.
    init(initial: [ClusterIdentity.Member]) {
        version = 1
        members = initial.map { Member(nodeID: $0.nodeID, address: $0.address, state: .active) }.sorted { $0.nodeID < $1.nodeID }
    }

    /// How a node joining a running region sees itself until its leader's map arrives.
    mutating func markJoining(_ id: UInt64) { set(id, .joining) }

    public func member(_ id: UInt64) -> Member? { members.first { $0.nodeID == id } }

    /// The member a change is under way for, if any: one at a time.
    public var changing: Member? { members.first { $0.state != .active } }

    public var activeIDs: [UInt64] { members.filter { $0.state == .active }.map(\.nodeID) }

    /// The map after `command`, or why not.
    func applying(_ command: RegionMapCommand) throws(CatalogRefusal) -> RegionMap {
        var next = self
        switch command {
        case .add(let id, let address):
            guard id != 0 else { throw CatalogRefusal(.invalidArgument, "node id 0 is reserved") }
            guard member(id) == nil else { throw CatalogRefusal(.alreadyExists, "node \(id) is already a member of the region") }
            if let other = members.first(where: { $0.address == address }) {
                throw CatalogRefusal(.alreadyExists, "address \(address) is node \(other.nodeID)'s")
            }
            try requireNoChange(besides: nil, to: "add node \(id)")
            guard members.count < Self.membersMax else {
                throw CatalogRefusal(.failedPrecondition, "a region has at most \(Self.membersMax) members; remove one first")
            }
            next.members.append(Member(nodeID: id, address: address, state: .joining))
            next.members.sort { $0.nodeID < $1.nodeID }
        case .activate(let id):
            guard member(id)?.state == .joining else {
                throw CatalogRefusal(.failedPrecondition, "node \(id) is not joining (it is \(member(id)?.state.rawValue ?? "no member"))")
            }
            next.set(id, .active)
        case .leave(let id):
            guard let leaving = member(id) else { throw CatalogRefusal(.notFound, "node \(id) is not a member of the region") }
            guard leaving.state != .leaving else { return self }
            try requireNoChange(besides: id, to: "remove node \(id)")
            guard activeIDs.contains(where: { $0 != id }) else {
                throw CatalogRefusal(.failedPrecondition, "node \(id) is the region's last active member")
            }
            next.set(id, .leaving)
        case .remove(let id):
            guard member(id)?.state == .leaving else {
                throw CatalogRefusal(.failedPrecondition, "node \(id) is not leaving (it is \(member(id)?.state.rawValue ?? "no member"))")
            }
            next.members.removeAll { $0.nodeID == id }
        }
        next.version += 1
        return next
    }

    /// One membership change at a time: Raft changes one member of a group at a time, and
    /// each step of a change waits on every group. (A joining node may be removed: that
    /// abandons its join.)
    private func requireNoChange(besides id: UInt64?, to what: String) throws(CatalogRefusal) {
        if let under = changing, under.nodeID != id {
            throw CatalogRefusal(.failedPrecondition, "cannot \(what) while node \(under.nodeID) is \(under.state.rawValue); "
                + "wait for that change to finish")
        }
    }

    private mutating func set(_ id: UInt64, _ state: State) {
        if let index = members.firstIndex(where: { $0.nodeID == id }) { members[index].state = state }
    }
}

/// A change to the region map, as proposed to its Raft group.
enum RegionMapCommand: Codable, Sendable, Equatable {
    case add(nodeID: UInt64, address: String)
    case activate(nodeID: UInt64)
    case leave(nodeID: UInt64)
    case remove(nodeID: UInt64)

    func encoded() -> [UInt8] { Array((try? JSONEncoder().encode(self)) ?? Data()) }

    static func decode(_ bytes: [UInt8]) throws -> RegionMapCommand {
        try JSONDecoder().decode(RegionMapCommand.self, from: Data(bytes))
    }
}

/// What applying a region map command says.
public enum RegionMapOutcome: Sendable, Equatable, Codable {
    case done(RegionMap)
    case refused(CatalogRefusal)
}
