import Foundation
import PeriscopeAPI
import PeriscopeRaft
import PeriscopeRaftLog
import PeriscopeRPC

/// A group of the node whatever its state machine: what membership changes need of it.
protocol MembershipGroup: AnyObject, Sendable {
    var id: GroupID { get }
    var status: ReplicaStatus { get }
    func proposeConfChange(_ change: ConfChange) async throws -> (index: UInt64, confState: ConfState)
}

extension ReplicaGroup: MembershipGroup {}

/// Membership changes (§11.9): the region map's commands, and single-server changes of a
/// group's Raft configuration proposed on the group's leader wherever it is.
extension VisibilityNode {
    /// Every group of the node: the region map's, the catalog's, then each shard's.
    var allGroups: [any MembershipGroup] { [regionGroup, catalogGroup] + groups }

    func group(withID id: GroupID) -> (any MembershipGroup)? { allGroups.first { $0.id == id } }

    /// A learner is promoted once its log is within this many entries of its leader's.
    static let promotionLagMax: UInt64 = 100

    /// Proposes a region map command on the map group's leader; the map after it, or the
    /// refusal (`CatalogRefusal`).
    func changeRegion(_ command: RegionMapCommand) async throws -> RegionMap {
        let applied = try await proposeOnLeader(regionGroup, command.encoded())
        switch applied.outcome {
        case .done(let map): return map
        case .refused(let refusal): throw refusal
        }
    }

    /// `periscope cluster add-node`: records the node as joining; the membership controller
    /// then makes it a learner of every group, a voter once caught up, and active.
    func addNode(id: String, address: String) async throws -> RegionMap {
        guard let nodeID = UInt64(id), nodeID != 0 else { throw RPCStatus(.invalidArgument, "node id '\(id)' is not a nonzero number") }
        do { _ = try RPCEndpoint(address) } catch { throw RPCStatus(.invalidArgument, "node \(id): \(error.message)") }
        return try await changeRegion(.add(nodeID: nodeID, address: address))
    }

    /// `periscope cluster remove-node`: records the node as leaving; the membership
    /// controller removes its replica from every group (every other member holds each
    /// group's data already), then removes it from the map.
    func removeNode(id: String) async throws -> RegionMap {
        guard let nodeID = UInt64(id), nodeID != 0 else { throw RPCStatus(.invalidArgument, "node id '\(id)' is not a nonzero number") }
        return try await changeRegion(.leave(nodeID: nodeID))
    }

    /// Proposes `change` of `group` on the group's leader (forwarded if that is another
    /// node), retrying while no leader is known, and returns the membership the leader has
    /// after it. A change that is already in effect is answered without a proposal.
    func changeMembership(of group: any MembershipGroup, _ change: ConfChange) async throws -> ConfState {
        let deadline = ContinuousClock.now + configuration.leaderWaitTimeout
        var pause: Duration = .milliseconds(10)
        while true {
            let leader = group.status.leader
            if leader == nodeID {
                do {
                    return try await proposeConfChangeHere(group, change)
                } catch ReplicationError.notLeader {
                    // Deposed between the look and the proposal: find the new leader.
                }
            } else if let leader, !transport.isIsolated(from: leader), let endpoint = transport.address(of: leader) {
                do {
                    return try await forward(change, of: group.id, to: endpoint)
                } catch let status as RPCStatus where status.code == .unavailable {
                    // That node no longer leads, or cannot be reached: learn the new leader.
                }
            }
            guard ContinuousClock.now + pause < deadline else {
                throw RPCStatus(.unavailable, "group \(group.id) found no reachable leader within \(configuration.leaderWaitTimeout) "
                    + "for \(change)")
            }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(200))
        }
    }

    private func forward(_ change: ConfChange, of group: GroupID, to endpoint: RPCEndpoint) async throws -> ConfState {
        let answer = try await transport.pool.unary(endpoint, ClusterPeerMethods.proposeConfChange, .with {
            $0.groupID = group
            $0.type = Self.wireType(change.kind)
            $0.nodeID = change.node
            $0.fromNode = nodeID
        }, timeout: configuration.forwardTimeout)
        return RaftWire.decode(answer.confState)
    }

    /// Proposes `change` on this replica, which must lead the group. A learner is promoted
    /// only once caught up: a voter far behind would make every commit wait for it.
    func proposeConfChangeHere(_ group: any MembershipGroup, _ change: ConfChange) async throws -> ConfState {
        let status = group.status
        guard status.leader == nodeID else { throw ReplicationError.notLeader(group: group.id, leader: status.leader) }
        let current = ConfState(voters: status.voters, learners: status.learners)
        switch change.kind {
        case .addLearner where current.members.contains(change.node): return current
        case .addVoter where current.voters.contains(change.node): return current
        case .removeNode where !current.members.contains(change.node): return current
        case .addVoter:
            let matched = status.matched[change.node] ?? 0
            guard current.learners.contains(change.node), matched + Self.promotionLagMax >= status.lastLogIndex else {
                throw RPCStatus(.failedPrecondition, "group \(group.id): node \(change.node) is promoted once it is a learner within "
                    + "\(Self.promotionLagMax) entries of the leader; it has \(matched) of \(status.lastLogIndex)")
            }
        case .removeNode where current.voters == [change.node]:
            throw RPCStatus(.failedPrecondition, "group \(group.id): node \(change.node) is its last voter")
        default:
            break
        }
        return try await group.proposeConfChange(change).confState
    }

    /// Answers `ClusterPeer.ProposeConfChange` from another node's membership controller.
    func proposeConfChangeForwarded(_ request: Periscope_V1_ConfChangeRequest) async throws -> Periscope_V1_ConfChangeResponse {
        guard !transport.isIsolated(from: request.fromNode) else {
            throw RPCStatus(.unavailable, "node \(nodeID) is cut off from node \(request.fromNode) (fault injection)")
        }
        guard let group = group(withID: request.groupID) else { throw RPCStatus(.notFound, "node \(nodeID) hosts no group \(request.groupID)") }
        guard let kind = Self.changeKind(request.type), request.nodeID != 0 else {
            throw RPCStatus(.invalidArgument, "a membership change of type \(request.type.rawValue) for node \(request.nodeID)")
        }
        let confState = try await proposeConfChangeHere(group, ConfChange(kind, node: request.nodeID))
        return .with {
            $0.confState = RaftWire.encode(confState)
        }
    }

    private static let kinds: [(ConfChange.Kind, Periscope_V1_ConfChangeType)] = [
        (.addVoter, .addVoter), (.addLearner, .addLearner), (.removeNode, .removeNode),
    ]

    static func wireType(_ kind: ConfChange.Kind) -> Periscope_V1_ConfChangeType { kinds.first { $0.0 == kind }!.1 }
    static func changeKind(_ type: Periscope_V1_ConfChangeType) -> ConfChange.Kind? { kinds.first { $0.1 == type }?.0 }
}
