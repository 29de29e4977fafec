@preconcurrency import Crypto
import Foundation
import Logging
import PeriscopeModel
import PeriscopeRPC
import PeriscopeRaftLog
import PeriscopeShard
import PeriscopeStorage
import Synchronization

/// A node of a region: its shard replicas (each the state machine of a Raft group, with an
/// indexer thread), the namespace catalog (a Raft group too), the loop that persists every
/// group's log with group commit, and the blocking executor queries run on. API-agnostic:
/// the services (`Services/`) translate the wire to calls here.
///
/// A node alone has every group to itself; in a region (docs/design.md §11) every group has
/// a replica on each member, driven by the same loop.
public final class VisibilityNode: Sendable {
    public let configuration: NodeConfiguration
    let identity: ClusterIdentity
    /// The region's members and where each stands (its own Raft group, §11.9).
    public let regionMap: RegionMapMachine
    let regionGroup: ReplicaGroup<RegionMapMachine>
    public let catalog: NamespaceCatalog
    let catalogGroup: ReplicaGroup<NamespaceCatalog>
    public let shards: [Shard]
    let groups: [ReplicaGroup<Shard>]
    let indexers: [ShardIndexer]
    let loop: RaftLoop
    let transport: RaftTransport
    let store: RaftLogStore
    /// Where blocking shard reads run (never on an event loop or the cooperative pool).
    let executor: StorageExecutor
    let pageTokenKey: SymmetricKey
    /// Signs federated page tokens: derived from the deployment's secret, which every region shares.
    let deploymentTokenKey: SymmetricKey
    /// The deployment's regions, and the links to the others.
    public let deployment: DeploymentDirectory
    let links: RegionLinks
    /// Rung when a shard applied entries (a replication stream waiting for new writes wakes).
    let applied: [Doorbell]
    /// Rung when the catalog changed a namespace.
    let catalogChanged: Doorbell
    /// Replication between regions: streams into this node's led shards, and their state.
    let replication: ReplicationState
    public let metrics: NodeMetrics
    /// The region's time for retention and delete tombstones.
    let clocks: ClockMonitor
    var logger: Logger { configuration.logger }
    /// host:port the node's listener is bound to (the configured port may be 0).
    let listeningAddress = Mutex<String?>(nil)

    static let catalogGroupID: GroupID = 1
    static let regionGroupID: GroupID = 2

    /// The key federated page tokens are signed with: derived from the region's secret
    /// with its own label, so no shard token can ever pass for a federated one.
    static func federatedTokenKey(from secret: [UInt8]) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: secret), info: Array("periscope federated page token v1".utf8),
                               outputByteCount: 32)
    }

    /// The key tokens of listings across regions are signed with, under a label of its own.
    static func deploymentTokenKey(from secret: [UInt8]) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: secret), info: Array("periscope deployment page token v1".utf8),
                               outputByteCount: 32)
    }
    static func groupID(ofShard shard: Int) -> GroupID { 1_000 + GroupID(shard) }

    /// Opens (or creates) the node's data directory and starts its Raft loop and indexers.
    /// **Blocks** on disk. Refuses a directory created with another shard count or node id.
    /// Opens the node's data directory, creating a region of this node alone if it belongs
    /// to none yet. **Blocks.**
    public static func open(_ configuration: NodeConfiguration, metrics: NodeMetrics = NodeMetrics()) throws -> VisibilityNode {
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        let identity = try ClusterIdentity.load(in: configuration.dataDirectory, configuration: configuration)
            ?? ClusterIdentity.createAlone(in: configuration.dataDirectory, configuration: configuration)
        return try open(configuration, identity: identity, metrics: metrics)
    }

    /// Opens the node as a member of the region `identity` describes. **Blocks.**
    static func open(_ configuration: NodeConfiguration, identity: ClusterIdentity, metrics: NodeMetrics) throws -> VisibilityNode {
        let directory = configuration.dataDirectory
        try FileManager.default.createDirectory(atPath: directory + "/shards", withIntermediateDirectories: true)
        let tokenKey = identity.pageTokenKeyBytes!
        let store = try RaftLogStore(path: directory + "/raft")
        // A floor of 0 turns the guard off: no reserve file, no checks.
        let diskGuard = configuration.diskSpace.floorBytes == 0 ? nil
            : DiskSpaceGuard(directory: directory, nodeID: configuration.nodeID, policy: configuration.diskSpace)
        if try diskGuard?.check() == .becameLow, let refusal = diskGuard?.refusal() {
            configuration.logger.warning("low on disk at start", metadata: ["why": "\(refusal)"])
        }
        let loop = RaftLoop(store: store, diskGuard: diskGuard, tickInterval: configuration.raftTickInterval)
        let staging = SnapshotStaging(root: directory + "/snapshots")
        try staging.prepare()
        let transport = RaftTransport(selfID: configuration.nodeID, loop: loop, staging: staging, logger: configuration.logger,
                                      localHost: configuration.peerSourceHost)
        loop.attach(transport)
        var opened: [Shard] = []
        var catalog: NamespaceCatalog?
        var regionMap: RegionMapMachine?
        let catalogChanged = Doorbell()
        let applied = (0..<identity.shardCount).map { _ in Doorbell() }
        do {
            var initialMap = RegionMap(initial: identity.initialMembers)
            if identity.joined == true { initialMap.markJoining(configuration.nodeID) }
            regionMap = try RegionMapMachine.open(at: directory + "/region", initial: initialMap) { [weak transport] map in
                transport?.setPeers(map.members.filter { $0.nodeID != configuration.nodeID })
            }
            // Until the map has applied anything (a joining node learns it from its leader's
            // snapshot), the members' addresses come from cluster.json.
            let listed = regionMap!.appliedIndex > 0 ? regionMap!.map.members : initialMap.members
            transport.setPeers(listed.filter { $0.nodeID != configuration.nodeID })
            catalog = try NamespaceCatalog.open(at: directory + "/catalog", localRegion: identity.region) { _ in catalogChanged.ring() }
            for index in 0..<identity.shardCount {
                let path = directory + "/shards/" + String(format: "%04d", index)
                let shardConfiguration = Shard.Configuration(pageTokenKey: PageTokenKey(bytes: tokenKey),
                                                             outboxRetainedEntries: configuration.outboxRetainedEntries)
                opened.append(try Shard.open(at: path, configuration: shardConfiguration))
            }
            // A region's first members create every group with themselves as voters; a node
            // joining a running region creates them empty, and their leaders fill them.
            let members: Set<UInt64>? = identity.joined == true ? nil : Set(identity.initialMembers.map(\.nodeID))
            let regionGroup = try ReplicaGroup(id: regionGroupID, node: configuration.nodeID, members: members, machine: regionMap!,
                                               store: store, loop: loop, snapshotDirectory: staging.root,
                                               tuning: configuration.raftTuning)
            let catalogGroup = try ReplicaGroup(id: catalogGroupID, node: configuration.nodeID, members: members, machine: catalog!,
                                                store: store, loop: loop, snapshotDirectory: staging.root,
                                                tuning: configuration.raftTuning)
            let indexers = opened.map { ShardIndexer(shard: $0) }
            let groups = try opened.enumerated().map { index, shard in
                // Every replica's indexer wakes when its shard applies, leader or follower.
                try ReplicaGroup(id: groupID(ofShard: index), node: configuration.nodeID, members: members, machine: shard,
                                 store: store, loop: loop, snapshotDirectory: staging.root, tuning: configuration.raftTuning,
                                 onApplied: { [indexer = indexers[index], bell = applied[index]] in
                                     indexer.poke()
                                     bell.ring()
                                 })
            }
            // Every group has installed what its log named: whatever else is staged, no log names.
            staging.removeLeftovers()
            let node = VisibilityNode(configuration: configuration, identity: identity, regionMap: regionMap!, regionGroup: regionGroup,
                                      catalog: catalog!, catalogGroup: catalogGroup,
                                      shards: opened, groups: groups, indexers: indexers, loop: loop, transport: transport, store: store,
                                      secret: tokenKey, applied: applied, catalogChanged: catalogChanged, metrics: metrics)
            loop.start()
            for (index, indexer) in indexers.enumerated() { indexer.start(name: "periscope-index-\(index)") }
            return node
        } catch {
            loop.stop()
            transport.closeNow()
            for shard in opened { try? shard.close() }
            try? catalog?.close()
            try? regionMap?.close()
            try? store.close()
            throw error
        }
    }

    private init(configuration: NodeConfiguration, identity: ClusterIdentity, regionMap: RegionMapMachine,
                 regionGroup: ReplicaGroup<RegionMapMachine>, catalog: NamespaceCatalog,
                 catalogGroup: ReplicaGroup<NamespaceCatalog>, shards: [Shard], groups: [ReplicaGroup<Shard>],
                 indexers: [ShardIndexer], loop: RaftLoop, transport: RaftTransport, store: RaftLogStore, secret: [UInt8],
                 applied: [Doorbell], catalogChanged: Doorbell, metrics: NodeMetrics) {
        self.configuration = configuration
        self.identity = identity
        self.regionMap = regionMap
        self.regionGroup = regionGroup
        self.catalog = catalog
        self.catalogGroup = catalogGroup
        self.shards = shards
        self.groups = groups
        self.indexers = indexers
        self.loop = loop
        self.transport = transport
        self.store = store
        pageTokenKey = Self.federatedTokenKey(from: secret)
        deploymentTokenKey = Self.deploymentTokenKey(from: secret)
        deployment = identity.directory
        links = RegionLinks(directory: identity.directory, logger: configuration.logger, localHost: configuration.peerSourceHost)
        self.applied = applied
        self.catalogChanged = catalogChanged
        replication = ReplicationState()
        self.metrics = metrics
        clocks = ClockMonitor(maxOffset: configuration.maxClockOffset, wallClock: configuration.wallClock,
                              peers: { [transport, links, deployment, regionMap] in
                                  guard regionMap.map.members.count == 1 else {
                                      return transport.peerIDs.compactMap { id in
                                          transport.address(of: id).map { ClockMonitor.Peer(key: "\(id)", endpoint: $0, nodeID: id) }
                                      }
                                  }
                                  return deployment.others.compactMap { region in
                                      links.addresses(of: region.name).first.map { ClockMonitor.Peer(key: region.name, endpoint: $0, nodeID: nil) }
                                  }
                              })
        executor = StorageExecutor(threadCount: max(1, configuration.queryThreads))
    }

    public var shardCount: Int { shards.count }

    /// Where clients reach this node: the bound listener once there is one.
    public var address: String {
        listeningAddress.withLock { $0 } ?? "\(configuration.host):\(configuration.port)"
    }
    public var clusterID: String { identity.clusterID }
    public var region: String { identity.region }
    public var nodeID: UInt64 { configuration.nodeID }
    /// The region's active members, by node id: each holds a replica of every group.
    public var memberIDs: [UInt64] { regionMap.map.activeIDs }
    /// The only member of its region: its groups elect it at once, with no one to ask.
    public var isAlone: Bool { regionMap.map.members.count == 1 }

    /// Waits until every group has a leader (at once for a node alone in its groups) and
    /// creates the default namespace if it is missing.
    public func awaitReady(timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !isReady {
            if let failure = loop.stoppedBecause { throw failure }
            guard ContinuousClock.now < deadline else {
                throw RPCStatus(.unavailable, "not every Raft group of the node has a leader after \(timeout): \(notReadyBecause ?? "")")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        // In a deployment of several regions the first one creates it, held by every region.
        if let name = configuration.defaultNamespace, deployment.primary.name == region, try await lookUpNamespace(named: name) == nil {
            do {
                _ = try await createNamespace(name: name, id: nil, retention: nil, homeRegion: nil, regions: deployment.names)
                logger.info("created the default namespace", metadata: ["namespace": "\(name)"])
            } catch let refusal as CatalogRefusal where refusal.code == .alreadyExists {
                // Another start created it first.
            }
        }
    }

    /// Every group has a leader and nothing has failed (the Raft loop, an indexer): the
    /// node can take requests.
    public var isReady: Bool { notReadyBecause == nil }

    /// Why the node cannot serve, if it cannot.
    public var notReadyBecause: String? {
        if let failure = loop.stoppedBecause { return "the Raft loop stopped: \(failure)" }
        if regionGroup.status.leader == nil { return "the region map's group has no leader" }
        if catalogGroup.status.leader == nil { return "the catalog group has no leader" }
        if let shard = groups.firstIndex(where: { $0.status.leader == nil }) { return "shard \(shard) has no leader" }
        if let shard = indexers.firstIndex(where: { $0.stoppedBecause != nil }) {
            return "the indexer of shard \(shard) stopped: \(indexers[shard].stoppedBecause!)"
        }
        return nil
    }

    /// Stops taking work: lets the indexes catch up, stops the Raft loop (proposals in
    /// flight finish or fail with `.stopped`), and closes every database. **Blocks.**
    public func close() throws {
        var firstError: (any Error)?
        for indexer in indexers {
            do { try indexer.stop() } catch { firstError = firstError ?? error }
        }
        loop.stop()
        transport.closeNow()
        for shard in shards {
            do { try shard.close() } catch { firstError = firstError ?? error }
        }
        do { try catalog.close() } catch { firstError = firstError ?? error }
        do { try regionMap.close() } catch { firstError = firstError ?? error }
        do { try store.close() } catch { firstError = firstError ?? error }
        if let firstError { throw firstError }
    }

    /// After the servers stopped sending work: lets queued queries finish and stops the
    /// query executor, then `close()`s on a thread of its own.
    public func shutDown() async throws {
        await links.close()
        try await executor.shutdown()
        try await Thread.run { try self.close() }
    }

    // MARK: Catalog

    /// Proposes a catalog change and returns the namespace after it, or throws the
    /// catalog's `CatalogRefusal` or a `ReplicationError`.
    func changeCatalog(_ command: CatalogCommand) async throws -> NamespaceEntry {
        let applied = try await proposeOnLeader(catalogGroup, command.encoded())
        switch applied.outcome {
        case .done(let entry): return entry
        case .refused(let refusal): throw refusal
        }
    }

    /// Creates a namespace homed in `homeRegion` (this one when nil) and held by `regions`
    /// (the home alone when empty). In a deployment of several regions only its first region
    /// creates namespaces (the caller forwards there: `deployment.primary`).
    public func createNamespace(name: String, id: String?, retention: Duration?, homeRegion: String?,
                                regions: [String] = []) async throws -> NamespaceEntry {
        let entry = try newNamespace(name: name, id: id, retention: retention, homeRegion: homeRegion, regions: regions)
        return try await changeCatalog(.create(entry))
    }

    /// A new namespace as asked, checked (regions of the deployment, a valid name, …).
    func newNamespace(name: String, id: String?, retention: Duration?, homeRegion: String?, regions: [String]) throws -> NamespaceEntry {
        let home = (homeRegion?.isEmpty ?? true) ? identity.region : homeRegion!
        try checkRegionsKnown([home] + regions)
        let entry = NamespaceEntry(name: name, id: (id?.isEmpty ?? true) ? UUID().uuidString.lowercased() : id!,
                                   retentionSeconds: (retention ?? configuration.defaultRetention).components.seconds,
                                   homeRegion: home, regions: regions)
        try NamespaceCatalog.checkNew(entry)
        return entry
    }

    public func setRegions(namespace: String, regions: [String]) async throws -> NamespaceEntry {
        try checkRegionsKnown(regions)
        return try await changeCatalog(.setRegions(name: namespace, regions: regions))
    }

    /// Marks `namespace` as a migration's target, or finishes the import: its failover
    /// version then rises above every order imported (at most `importedOrderMax`), so the
    /// engine's writes from now on win over every imported one.
    public func setImporting(namespace: String, importing: Bool, importedOrderMax: Int64) async throws -> NamespaceEntry {
        var failoverVersion: Int64?, ceiling: Int64?
        if !importing {
            let entry = try await self.namespace(named: namespace)
            let home = deployment.region(named: entry.homeRegion)?.index ?? 0
            guard let imported = DeploymentDirectory.importedFailoverVersion(order: importedOrderMax, issuer: home) else {
                throw RPCStatus(.invalidArgument, "imported_order_max \(importedOrderMax) is not an order ImportWrites accepts")
            }
            failoverVersion = DeploymentDirectory.nextFailoverVersion(after: imported, for: home)
            ceiling = imported
        }
        return try await changeCatalog(.setImporting(name: namespace, importing: importing, failoverVersion: failoverVersion, ceiling: ceiling))
    }

    public func setRetention(namespace: String, retention: Duration) async throws -> NamespaceEntry {
        try await changeCatalog(.setRetention(name: namespace, seconds: retention.components.seconds))
    }

    /// Types are Temporal's numbers (`SearchAttributeType.rawValue`); one the model does not
    /// know is refused by the catalog, naming the number.
    public func addSearchAttributes(namespace: String, rawTypes: [String: Int]) async throws -> NamespaceEntry {
        try await changeCatalog(.addAttributes(name: namespace, attributes: rawTypes))
    }

    public func removeSearchAttributes(namespace: String, _ names: [String]) async throws -> NamespaceEntry {
        try await changeCatalog(.removeAttributes(name: namespace, names: names))
    }

    /// The namespace called `name`, or a `CatalogRefusal(.notFound)` naming it.
    /// The namespace called `name`. Known namespaces are answered from this node's copy of
    /// the catalog; an unknown name is confirmed with the catalog's leader first (ReadIndex),
    /// so a namespace created through another node a moment ago is found here too.
    public func namespace(named name: String) async throws -> NamespaceEntry {
        guard !name.isEmpty else { throw CatalogRefusal(.invalidArgument, "the request names no namespace") }
        guard let entry = try await lookUpNamespace(named: name) else {
            throw CatalogRefusal(.notFound, "namespace \(name) does not exist")
        }
        return entry
    }

    func lookUpNamespace(named name: String) async throws -> NamespaceEntry? {
        if let entry = catalog.namespace(named: name) { return entry }
        guard !isAlone else { return nil }
        let index = try await confirmedReadIndex(catalogGroup)
        try await waitUntil(timeout: configuration.consistencyTimeout, what: "the catalog to apply index \(index)") {
            self.catalog.appliedIndex >= index
        }
        return catalog.namespace(named: name)
    }
}
