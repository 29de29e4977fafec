import Foundation
import NIOCore
import PeriscopeAPI
import PeriscopeHTTP2
import PeriscopeRPC
import Synchronization

/// A node started with `--wait-for-init` and an empty data directory belongs to no region
/// yet. It listens on its address with only health, `/readyz` (503, "waiting for periscope
/// cluster init") and `ClusterPeer.Bootstrap`, until `periscope cluster init` sends it the
/// region: then `cluster.json` is written durably, this listener drains (the answer is
/// sent first) and the node opens as a member.
enum RegionBootstrap {
    static func awaitIdentity(_ configuration: NodeConfiguration, http2: HTTP2ConnectionConfiguration, tls: HTTP2TLS.Server?,
                              group: any EventLoopGroup) async throws -> ClusterIdentity {
        let received = AsyncStream<ClusterIdentity>.makeStream()
        let written = Mutex<ClusterIdentity?>(nil)
        var router = RPCRouter()
        HealthService().register(in: &router)
        router.get("/healthz") { RPCPlainResponse(text: "ok\n") }
        router.get("/readyz") {
            RPCPlainResponse(status: 503, text: "not ready: node \(configuration.nodeID) belongs to no region yet; "
                + "run periscope cluster init\n")
        }
        router.unary(ClusterPeerMethods.bootstrap) { request, _ in
            let identity = try ClusterIdentity.from(request, nodeID: configuration.nodeID)
            // Two inits racing (or one repeated): the first writes, the same region is
            // answered again, another region is refused.
            let created = try written.withLock { current -> Bool in
                if let current {
                    guard current.isSameRegion(as: identity) else {
                        throw RPCStatus(.alreadyExists, "node \(configuration.nodeID) was just made a member of cluster "
                            + "\(current.clusterID)")
                    }
                    return false
                }
                do {
                    try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
                    try identity.save(in: configuration.dataDirectory)
                } catch {
                    throw RPCStatus(.internalError, "cannot write \(configuration.dataDirectory)/\(ClusterIdentity.fileName): \(error)")
                }
                current = identity
                return true
            }
            if created { received.continuation.yield(identity) }
            return .with { $0.created = created }
        }
        let server = try await RPCServer.start(host: configuration.host, port: configuration.port, router: router,
                                               configuration: http2, tls: tls, group: group)
        configuration.logger.info("waiting for periscope cluster init", metadata: [
            "node": "\(configuration.nodeID)", "address": "\(configuration.host):\(server.localAddress.port ?? configuration.port)",
        ])
        var identities = received.stream.makeAsyncIterator()
        let identity = await identities.next()
        await server.shutdown()
        guard let identity else { throw CancellationError() }
        configuration.logger.info("joined a region", metadata: [
            "cluster": "\(identity.clusterID)", "region": "\(identity.region)", "members": "\(identity.initialMembers.count)",
        ])
        return identity
    }
}
