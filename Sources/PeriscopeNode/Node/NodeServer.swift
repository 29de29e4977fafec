import Foundation
import Logging
import NIOCore
import NIOPosix
import PeriscopeAPI
import PeriscopeHTTP2
import PeriscopeModel
import PeriscopeRPC
import PeriscopeShard
import ServiceLifecycle

/// A node with its listener: the visibility, admin, health and diagnostics services over
/// HTTP/2 (gRPC and JSON), plus `GET /metrics`, `/healthz` and `/readyz`, and the
/// retention task.
public final class NodeServer: Sendable {
    public let node: VisibilityNode
    public let health: HealthService
    let server: RPCServer
    let eventLoops: MultiThreadedEventLoopGroup
    /// Retention, the membership controller and leader balancing, started once the node is ready.
    let maintenance: Task<Void, Never>

    public var port: Int { server.localAddress.port ?? 0 }

    /// Opens the node (on a thread of its own: opening blocks on disk), waits until its
    /// groups have leaders, then listens.
    public static func start(_ configuration: NodeConfiguration, eventLoopThreads: Int = System.coreCount,
                             http2: HTTP2ConnectionConfiguration = HTTP2ConnectionConfiguration(),
                             tls: HTTP2TLS.Server? = nil) async throws -> NodeServer {
        let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: max(1, eventLoopThreads))
        let node: VisibilityNode
        do {
            let identity = try ClusterIdentity.load(in: configuration.dataDirectory, configuration: configuration)
            if identity == nil, configuration.waitsForInit {
                guard configuration.port != 0 else {
                    throw ShardError("--wait-for-init needs a fixed --port: the region's members find each other by address")
                }
                let joined = try await RegionBootstrap.awaitIdentity(configuration, http2: http2, tls: tls, group: eventLoops)
                node = try await Thread.run { try VisibilityNode.open(configuration, identity: joined, metrics: NodeMetrics()) }
            } else {
                node = try await Thread.run { try VisibilityNode.open(configuration) }
            }
        } catch {
            try? await eventLoops.shutdownGracefully()
            throw error
        }
        // A node alone elects itself at once: it listens ready. A member of a region must
        // listen first, since its groups elect leaders by talking to the other members.
        if node.isAlone {
            do {
                try await node.awaitReady()
            } catch {
                try? await node.shutDown()
                try? await eventLoops.shutdownGracefully()
                throw error
            }
        }
        let health = HealthService()
        var router = RPCRouter()
        health.register(in: &router)
        DiagnosticsService().register(in: &router)
        VisibilityService(node: node).register(in: &router)
        AdminService(node: node).register(in: &router)
        ClusterPeerService(node: node).register(in: &router)
        RegionPeerService(node: node).register(in: &router)
        node.transport.register(in: &router)
        router.get("/metrics") {
            do {
                return RPCPlainResponse(contentType: "text/plain; version=0.0.4; charset=utf-8",
                                        body: try await node.executor.run { node.scrapeMetrics() })
            } catch {
                return RPCPlainResponse(status: 503, text: "metrics unavailable: \(error)\n")
            }
        }
        router.get("/healthz") { RPCPlainResponse(text: "ok\n") }
        router.get("/readyz") {
            if health.status(of: "") == .notServing { return RPCPlainResponse(status: 503, text: "not ready: the node is shutting down\n") }
            if let why = node.notReadyBecause { return RPCPlainResponse(status: 503, text: "not ready: \(why)\n") }
            if let low = node.loop.diskGuard?.refusal() { return RPCPlainResponse(status: 503, text: "not ready: \(low)\n") }
            return RPCPlainResponse(text: "ready\n")
        }
        let server: RPCServer
        do {
            server = try await RPCServer.start(host: configuration.host, port: configuration.port, router: router,
                                               configuration: http2, tls: tls, group: eventLoops)
        } catch {
            try? await eventLoops.shutdownGracefully()
            try? await node.shutDown()
            throw ShardError("cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
        node.listeningAddress.withLock { $0 = "\(configuration.host):\(server.localAddress.port ?? configuration.port)" }
        for service in [VisibilityMethods.service, AdminMethods.service] { health.setStatus(.serving, for: service) }
        let maintenance = Task {
            await withTaskGroup(of: Void.self) { outer in
                // The free-space watch runs from the start: a node may be low before it is ready.
                outer.addTask { await DiskWatch(node: node).run() }
                outer.addTask { await node.clocks.run(node) }
                outer.addTask {
                    if !node.isAlone {
                        // Until the groups have leaders nothing can be proposed; the default namespace
                        // is created by whichever member gets there first.
                        while !Task.isCancelled {
                            do {
                                try await node.awaitReady(timeout: .seconds(30))
                                break
                            } catch {
                                node.logger.warning("the region is not ready yet", metadata: ["why": "\(node.notReadyBecause ?? "\(error)")"])
                            }
                        }
                    }
                    await withTaskGroup(of: Void.self) { tasks in
                        tasks.addTask { await RetentionTask(node: node).run() }
                        tasks.addTask { await MembershipController(node: node).run(every: node.configuration.membershipStepInterval) }
                        tasks.addTask { await ReplicationController(node: node).run() }
                        tasks.addTask { await NamespaceSync(node: node).run() }
                        tasks.addTask { await FailoverController(node: node).run() }
                        if let interval = node.configuration.leaderBalanceInterval {
                            tasks.addTask { await LeaderBalancer(node: node).run(every: interval) }
                        }
                    }
                }
            }
        }
        return NodeServer(node: node, health: health, server: server, eventLoops: eventLoops, maintenance: maintenance)
    }

    private init(node: VisibilityNode, health: HealthService, server: RPCServer, eventLoops: MultiThreadedEventLoopGroup,
                 maintenance: Task<Void, Never>) {
        self.node = node
        self.health = health
        self.server = server
        self.eventLoops = eventLoops
        self.maintenance = maintenance
    }

    /// Graceful: health turns NOT_SERVING, GOAWAY to every client and in-flight calls
    /// finish, then the indexes catch up, the Raft loop stops and every database closes.
    public func shutdown() async throws {
        health.setStatus(.notServing)
        for service in [VisibilityMethods.service, AdminMethods.service] { health.setStatus(.notServing, for: service) }
        maintenance.cancel()
        await maintenance.value
        // Peers' replication streams into this node end only when the peer ends them: once
        // the clients' calls are answered, they are cut rather than waited for (a region's
        // node took 10-12 s to stop, the whole graceful timeout).
        await server.shutdown(closingStreamsAfterUnaryCalls: true)
        try await node.shutDown()
        try await eventLoops.shutdownGracefully()
    }
}

/// swift-service-lifecycle's view of a node: runs until a graceful shutdown (SIGTERM,
/// SIGINT through the `ServiceGroup`), then drains and stops.
public struct NodeService: Service {
    let configuration: NodeConfiguration
    let eventLoopThreads: Int
    let onListening: @Sendable (NodeServer) -> Void

    public init(configuration: NodeConfiguration, eventLoopThreads: Int = System.coreCount,
                onListening: @escaping @Sendable (NodeServer) -> Void = { _ in }) {
        self.configuration = configuration
        self.eventLoopThreads = eventLoopThreads
        self.onListening = onListening
    }

    public func run() async throws {
        // SIGTERM while starting (above all while waiting, perhaps for ever, for
        // `cluster init`) stops the start instead of being ignored until it ends.
        let server: NodeServer
        do {
            server = try await cancelWhenGracefulShutdown { [configuration, eventLoopThreads] in
                try await NodeServer.start(configuration, eventLoopThreads: eventLoopThreads)
            }
        } catch is CancellationError where Task.isShuttingDownGracefully {
            configuration.logger.notice("stopped while starting (SIGTERM or SIGINT)")
            return
        }
        onListening(server)
        // Returns on graceful shutdown; throws CancellationError if the group is cancelled.
        // Either way the node drains and closes: nothing is left open.
        try? await gracefulShutdown()
        configuration.logger.info("shutting down: draining in-flight calls, catching the indexes up")
        try await server.shutdown()
        configuration.logger.info("stopped cleanly")
    }
}

/// Proposes retention to every shard: for each namespace, drop the closed partitions that
/// end before now − retention. Runs every `retentionInterval` (first right after start).
struct RetentionTask {
    let node: VisibilityNode

    func run() async {
        while !Task.isCancelled {
            let now: Timestamp
            do {
                now = try node.clocks.regionTime(node: node.nodeID)
            } catch {
                // A horizon from a clock days ahead would drop every closed execution. Asked
                // again soon: at start the other members' clocks are not measured yet.
                // The clock monitor logs when the time is lost and found; this is its consequence.
                node.configuration.logger.debug("retention postponed: \(error)")
                try? await Task.sleep(for: min(node.configuration.retentionInterval, .seconds(10)))
                continue
            }
            for namespace in node.catalog.namespaces where !Task.isCancelled {
                let horizon = Timestamp(nanosecondsSinceEpoch: now.nanosecondsSinceEpoch - namespace.retentionSeconds * 1_000_000_000)
                for shard in 0..<node.shardCount where !Task.isCancelled {
                    do {
                        _ = try await node.propose([.expire(namespaceId: namespace.id, closedBefore: horizon)], toShard: shard)
                    } catch {
                        node.configuration.logger.warning("retention proposal failed", metadata: [
                            "namespace": "\(namespace.name)", "shard": "\(shard)", "error": "\(error)",
                        ])
                    }
                }
            }
            try? await Task.sleep(for: node.configuration.retentionInterval)
        }
    }
}

extension Thread {
    /// Runs blocking `body` on a new thread and returns its result (opening and closing
    /// databases: rare, slow, and never on the cooperative pool).
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }
}
