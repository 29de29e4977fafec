import Foundation
import PeriscopeAPI
import PeriscopeRPC

/// `periscope.v1.RegionPeer` on a node: what the other regions of the deployment ask of this
/// one. Every call names the deployment and the calling region, and is refused for another
/// deployment, an unknown region, or one fault injection cut this node off from.
struct RegionPeerService: Sendable {
    let node: VisibilityNode

    func register(in router: inout RPCRouter) {
        let node = self.node
        let source = ReplicationSource(node: node)
        router.bidirectionalStreaming(RegionPeerMethods.subscribe) { requests, responses, _ in
            try await source.subscribe(requests, responses)
        }
        router.serverStreaming(RegionPeerMethods.backfill) { request, responses, _ in
            try await source.backfill(request, responses)
        }
        VisibilityService.route(RegionPeerMethods.getNamespaceVersions, &router, metrics: node.metrics, kind: "region") { request in
            try source.checkDeployment(request.deploymentID)
            return .with {
                $0.region = node.region
                $0.namespaces = node.catalog.namespaces.map { entry in
                    .with {
                        $0.name = entry.name
                        $0.failoverVersion = entry.failoverVersion
                        $0.metadataVersion = entry.metadataVersion
                    }
                }
            }
        }
        VisibilityService.route(RegionPeerMethods.getNamespaces, &router, metrics: node.metrics, kind: "region") { request in
            try source.checkDeployment(request.deploymentID)
            guard request.names.count <= 10_000 else { throw RPCStatus(.invalidArgument, "at most 10000 namespaces per call") }
            return .with { $0.entries = request.names.compactMap { node.catalog.namespace(named: $0) }.map(NamespaceSync.encode) }
        }
        VisibilityService.route(RegionPeerMethods.offerNamespaces, &router, metrics: node.metrics, kind: "region") { request in
            _ = try source.checkCaller(deployment: request.deploymentID, region: request.fromRegion)
            guard request.entries.count <= 10_000 else { throw RPCStatus(.invalidArgument, "at most 10000 namespaces per call") }
            let taken = try await node.takeNamespaces(try request.entries.map(NamespaceSync.decode), from: request.fromRegion)
            return .with { $0.taken = taken }
        }
        VisibilityService.route(RegionPeerMethods.getReplicationCursors, &router, metrics: node.metrics, kind: "region") { request in
            _ = try source.checkCaller(deployment: request.deploymentID, region: request.sourceRegion)
            let origin = node.deployment.region(named: request.sourceRegion)!.index
            return .with { $0.cursors = node.shards.map { $0.replicationCursor(from: origin) } }
        }
        VisibilityService.route(RegionPeerMethods.listShardPages, &router, metrics: node.metrics, kind: "region") { request in
            try source.checkDeployment(request.deploymentID)
            return try await node.regionShardPages(request)
        }
        VisibilityService.route(RegionPeerMethods.countShards, &router, metrics: node.metrics, kind: "region") { request in
            try source.checkDeployment(request.deploymentID)
            return try await node.regionCount(request)
        }
        VisibilityService.route(RegionPeerMethods.findNewer, &router, metrics: node.metrics, kind: "region") { request in
            try source.checkDeployment(request.deploymentID)
            return try await node.regionFindNewer(request)
        }
    }
}
