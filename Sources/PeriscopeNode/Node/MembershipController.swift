import Foundation
import PeriscopeAPI
import PeriscopeRaft
import PeriscopeRPC
import Synchronization

/// Drives the region's groups towards the region map (§11.9). It runs on every member and
/// acts on the one leading the map's group, so exactly one drives at a time and another
/// takes over where it stopped if that node dies. Each pass does the next step of the one
/// change under way, and every step is idempotent (asked of each group's leader, which
/// answers a change already in effect without proposing it):
/// - a **joining** node is sent the region (`Bootstrap`, joining), made a learner of every
///   group (its leader streams it a snapshot), promoted to voter once within
///   `promotionLagMax` entries, and marked active once it votes in every group;
/// - a **leaving** node is removed from every group (a leader removing itself hands its
///   leadership over first), then from the map.
final class MembershipController: Sendable {
    let node: VisibilityNode
    /// (node, address) pairs that answered their `Bootstrap` (not asked again).
    private let bootstrapped = Mutex<Set<String>>([])

    init(node: VisibilityNode) { self.node = node }

    func run(every interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled, node.regionGroup.status.leader == node.nodeID, let member = node.regionMap.map.changing else {
                continue
            }
            do {
                switch member.state {
                case .joining: try await join(member)
                case .leaving: try await leave(member)
                case .active: break
                }
            } catch {
                node.logger.info("membership change waits", metadata: [
                    "node": "\(member.nodeID)", "state": "\(member.state.rawValue)", "because": "\(error)",
                ])
            }
        }
    }

    /// One pass towards making `member` a voter of every group, then active.
    private func join(_ member: RegionMap.Member) async throws {
        try await bootstrap(member)
        var waiting: [String] = []
        for group in node.allGroups {
            do {
                var members = try await node.changeMembership(of: group, ConfChange(.addLearner, node: member.nodeID))
                if !members.voters.contains(member.nodeID) {
                    members = try await node.changeMembership(of: group, ConfChange(.addVoter, node: member.nodeID))
                }
            } catch {
                waiting.append("group \(group.id): \(error)")
            }
        }
        guard waiting.isEmpty else { throw MembershipWait(steps: waiting) }
        _ = try await node.changeRegion(.activate(nodeID: member.nodeID))
        node.logger.notice("a node joined the region", metadata: ["node": "\(member.nodeID)", "address": "\(member.address)"])
    }

    /// One pass towards removing `member` from every group, then from the map.
    private func leave(_ member: RegionMap.Member) async throws {
        var waiting: [String] = []
        for group in node.allGroups {
            do {
                _ = try await node.changeMembership(of: group, ConfChange(.removeNode, node: member.nodeID))
            } catch {
                waiting.append("group \(group.id): \(error)")
            }
        }
        guard waiting.isEmpty else { throw MembershipWait(steps: waiting) }
        _ = try await node.changeRegion(.remove(nodeID: member.nodeID))
        node.logger.notice("a node left the region", metadata: ["node": "\(member.nodeID)"])
    }

    /// Sends the joining node the region: the same identity every member has, with the
    /// members as the map lists them now. Repeated until it answers (it may not be started yet).
    private func bootstrap(_ member: RegionMap.Member) async throws {
        let key = "\(member.nodeID)@\(member.address)"
        guard !bootstrapped.withLock({ $0.contains(key) }) else { return }
        let identity = node.identity
        let members = node.regionMap.map.members
        let endpoint = try RPCEndpoint(member.address)
        _ = try await node.transport.pool.unary(endpoint, ClusterPeerMethods.bootstrap, .with {
            $0.clusterID = identity.clusterID
            $0.region = identity.region
            $0.shardCount = UInt32(identity.shardCount)
            $0.replicationFactor = UInt32(members.count)
            $0.pageTokenKey = Data(identity.pageTokenKeyBytes!)
            $0.members = members.map { listed in .with { $0.nodeID = listed.nodeID; $0.address = listed.address } }
            $0.nodeID = member.nodeID
            $0.joining = true
            $0.deployment = identity.wireDeployment
        }, timeout: node.configuration.forwardTimeout)
        bootstrapped.withLock { _ = $0.insert(key) }
    }
}

/// Steps of a membership change that could not be taken yet (a learner still catching up,
/// a group without a leader); the next pass tries them again.
struct MembershipWait: Error, CustomStringConvertible {
    var steps: [String]
    var description: String { steps.joined(separator: "; ") }
}
