import PeriscopeAPI
import PeriscopeRPC

/// `periscope.v1.AdminService` on a node. Status, shard map and namespace placement are
/// answered; membership changes and leadership transfer need replicas on other nodes, which
/// the next step (issue 8) brings, and say so with UNIMPLEMENTED.
public struct AdminService: Sendable {
    let node: VisibilityNode

    public init(node: VisibilityNode) { self.node = node }

    public func register(in router: inout RPCRouter) {
        let node = self.node
        VisibilityService.route(AdminMethods.getClusterStatus, &router, metrics: node.metrics, kind: "admin") { _ in
            let placements = node.shardPlacements()
            let leaders = placements.filter { $0.leaderNodeID == String(node.configuration.nodeID) }.count
            return .with {
                $0.region = node.region
                $0.shardCount = UInt32(node.shardCount)
                $0.replicationFactor = 1
                $0.nodes = [.with {
                    $0.nodeID = String(node.configuration.nodeID)
                    $0.address = node.address
                    $0.state = node.isReady ? .active : .joining
                    $0.leaderCount = UInt32(leaders)
                    $0.replicaCount = UInt32(placements.count)
                }]
                $0.unavailableShards = placements.filter { $0.leaderNodeID.isEmpty }.map(\.shardID)
            }
        }
        VisibilityService.route(AdminMethods.getShardMap, &router, metrics: node.metrics, kind: "admin") { _ in
            .with {
                $0.version = 1
                $0.shards = node.shardPlacements()
            }
        }
        VisibilityService.route(AdminMethods.getNamespacePlacement, &router, metrics: node.metrics, kind: "admin") { request in
            let entry = try node.namespace(named: request.namespace)
            return .with {
                $0.namespace = entry.name
                $0.homeRegion = entry.homeRegion
                $0.replicaRegions = [entry.homeRegion]
            }
        }
        let notYet = "this node runs every shard as a group of one; membership changes, leadership transfer and "
            + "multi-region placement come with replicated regions"
        router.unary(AdminMethods.addNode) { _, _ in throw RPCStatus(.unimplemented, notYet) }
        router.unary(AdminMethods.removeNode) { _, _ in throw RPCStatus(.unimplemented, notYet) }
        router.unary(AdminMethods.transferLeadership) { _, _ in throw RPCStatus(.unimplemented, notYet) }
        router.unary(AdminMethods.setNamespacePlacement) { _, _ in throw RPCStatus(.unimplemented, notYet) }
    }
}

extension VisibilityNode {
    func shardPlacements() -> [Periscope_V1_ShardPlacement] {
        groups.enumerated().map { index, group in
            let status = group.status
            return .with {
                $0.shardID = UInt32(index)
                $0.replicas = [.with {
                    $0.nodeID = String(configuration.nodeID)
                    $0.role = .voter
                    $0.appliedIndex = status.appliedIndex
                }]
                $0.leaderNodeID = status.leader.map(String.init) ?? ""
                $0.term = status.term
                $0.commitIndex = status.committedIndex
            }
        }
    }
}
