/// The members of a group as of some log position: voters decide elections and commits;
/// learners receive the log but do not vote (a new replica catches up as a learner first).
public struct ConfState: Sendable, Hashable, CustomStringConvertible {
    public var voters: Set<NodeID>
    public var learners: Set<NodeID>

    public init(voters: Set<NodeID> = [], learners: Set<NodeID> = []) {
        self.voters = voters
        self.learners = learners
    }

    public var members: Set<NodeID> { voters.union(learners) }

    public var description: String {
        "voters \(voters.sorted()) learners \(learners.sorted())"
    }

    /// The membership after `change`. Each change sets one node's role outright, so replaying
    /// changes onto a state that already holds them gives the same result.
    public func applying(_ change: ConfChange) -> ConfState {
        var next = self
        switch change.kind {
        case .addVoter:
            next.learners.remove(change.node)
            next.voters.insert(change.node)
        case .addLearner:
            next.voters.remove(change.node)
            next.learners.insert(change.node)
        case .removeNode:
            next.voters.remove(change.node)
            next.learners.remove(change.node)
        }
        return next
    }
}

/// A single-server membership change (see docs/design.md §8 for why single-server).
public struct ConfChange: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: UInt8, Sendable {
        /// Add a voter, or promote a learner.
        case addVoter = 1
        /// Add a learner, or demote a voter.
        case addLearner = 2
        case removeNode = 3
    }

    public var kind: Kind
    public var node: NodeID

    public init(_ kind: Kind, node: NodeID) {
        self.kind = kind
        self.node = node
    }

    public var description: String { "\(kind) \(node)" }

    /// Nine bytes: the kind, then the node id big-endian.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = [kind.rawValue]
        bytes.reserveCapacity(9)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: node >> UInt64(shift))) }
        return bytes
    }

    public init?(encoded bytes: [UInt8]) {
        guard bytes.count == 9, let kind = Kind(rawValue: bytes[0]) else { return nil }
        var node: UInt64 = 0
        for byte in bytes[1...] { node = node << 8 | UInt64(byte) }
        guard node != noNode else { return nil }
        self.init(kind, node: node)
    }
}
