import Foundation
import PeriscopeAPI
import PeriscopeModel

/// Namespaces, search attributes and the region's status. Namespace changes are not
/// retried: a retry after a lost answer could not tell its own success from a conflict.
extension PeriscopeClient {
    /// `homeRegion` empty: the region asked. `regions` empty: the home alone.
    public func createNamespace(_ name: String, retention: Duration? = nil, id: String = "",
                                homeRegion: String = "", regions: [String] = []) async throws(PeriscopeError) -> Namespace {
        try await call(VisibilityMethods.createNamespace, .with {
            $0.name = name
            $0.id = id
            $0.homeRegion = homeRegion
            $0.regions = regions
            if let retention { $0.retention = .with { $0.seconds = retention.components.seconds } }
        }, idempotent: false).namespace
    }

    public func describeNamespace(_ name: String) async throws(PeriscopeError) -> Namespace {
        try await call(VisibilityMethods.describeNamespace, .with { $0.name = name }).namespace
    }

    public func setRetention(namespace: String, _ retention: Duration) async throws(PeriscopeError) -> Namespace {
        try await call(VisibilityMethods.updateNamespace, .with {
            $0.name = namespace
            $0.retention = .with { $0.seconds = retention.components.seconds }
        }).namespace
    }

    /// The regions to hold the namespace from now on, its home included. A region added
    /// receives the namespace's executions by backfill; one removed keeps what it has.
    public func setRegions(namespace: String, _ regions: [String]) async throws(PeriscopeError) -> Namespace {
        try await call(VisibilityMethods.updateNamespace, .with {
            $0.name = namespace
            $0.regions = .with { $0.names = regions }
        }).namespace
    }

    /// Marks the namespace as a migration's target (`AdminService.ImportWrites` accepted), or
    /// finishes the import: its failover version rises above `importedOrderMax`, the largest
    /// source order imported, so writes made through Periscope from now on win.
    public func setImporting(namespace: String, _ importing: Bool, importedOrderMax: Int64 = 0) async throws(PeriscopeError) -> Namespace {
        try await call(VisibilityMethods.updateNamespace, .with {
            $0.name = namespace
            $0.importing = importing
            $0.importedOrderMax = importedOrderMax
        }).namespace
    }

    /// Every namespace, following the pages.
    public func namespaces() async throws(PeriscopeError) -> [Namespace] {
        var all: [Namespace] = []
        var token = Data()
        repeat {
            let page = try await call(VisibilityMethods.listNamespaces, .with { $0.nextPageToken = token })
            all += page.namespaces
            token = page.nextPageToken
        } while !token.isEmpty
        return all
    }

    /// Adds custom attributes; adding one that exists with the same type succeeds.
    public func addSearchAttributes(namespace: String, _ attributes: [String: IndexedValueType]) async throws(PeriscopeError)
        -> Periscope_V1_SearchAttributesResponse {
        try await call(VisibilityMethods.addSearchAttributes, .with { $0.namespace = namespace; $0.searchAttributes = attributes })
    }

    public func removeSearchAttributes(namespace: String, _ names: [String]) async throws(PeriscopeError) -> Periscope_V1_SearchAttributesResponse {
        try await call(VisibilityMethods.removeSearchAttributes, .with { $0.namespace = namespace; $0.names = names }, idempotent: false)
    }

    public func searchAttributes(namespace: String) async throws(PeriscopeError) -> Periscope_V1_SearchAttributesResponse {
        try await call(VisibilityMethods.listSearchAttributes, .with { $0.namespace = namespace })
    }

    public func clusterStatus() async throws(PeriscopeError) -> Periscope_V1_ClusterStatus {
        try await call(AdminMethods.getClusterStatus, Periscope_V1_GetClusterStatusRequest())
    }

    public func shardMap() async throws(PeriscopeError) -> Periscope_V1_ShardMap {
        try await call(AdminMethods.getShardMap, Periscope_V1_GetShardMapRequest())
    }

    public func namespacePlacement(_ namespace: String) async throws(PeriscopeError) -> Periscope_V1_NamespacePlacement {
        try await call(AdminMethods.getNamespacePlacement, .with { $0.namespace = namespace })
    }

    /// Moves a namespace's home to `region`. Planned (the default): the old home drains its
    /// writes to `region` first, and the answer comes once the handover has started
    /// (`namespacePlacement` shows the new home when it is done). `force`: the old home is
    /// down and `region` takes the writes at once; the answer bounds what may be missing.
    /// `cancel`: a planned failover under way is abandoned.
    public func failover(namespace: String, to region: String, force: Bool = false,
                         cancel: Bool = false) async throws(PeriscopeError) -> Periscope_V1_FailoverNamespaceResponse {
        try await call(AdminMethods.failoverNamespace, .with {
            $0.namespace = namespace
            $0.toRegion = region
            $0.force = force
            $0.cancel = cancel
        }, idempotent: false)
    }

    /// Adds a node (started with `--wait-for-init`) to the region. Returns once the region
    /// map records it as joining; `clusterStatus()` shows it `active` once it votes in every group.
    public func addNode(id: String, address: String) async throws(PeriscopeError) -> Periscope_V1_ShardMap {
        try await call(AdminMethods.addNode, .with { $0.nodeID = id; $0.address = address }, idempotent: false).shardMap
    }

    /// Removes a node from the region. Returns once the region map records it as leaving;
    /// it is gone from `clusterStatus()` once no group has a replica on it.
    public func removeNode(id: String) async throws(PeriscopeError) -> Periscope_V1_ShardMap {
        try await call(AdminMethods.removeNode, .with { $0.nodeID = id }, idempotent: false).shardMap
    }

    public func transferLeadership(shard: UInt32, to nodeID: String) async throws(PeriscopeError) -> Periscope_V1_TransferLeadershipResponse {
        try await call(AdminMethods.transferLeadership, .with { $0.shardID = shard; $0.targetNodeID = nodeID }, idempotent: false)
    }

    /// The answering node's index verification of each of its shard replicas.
    public func verifyIndexes(differencesMax: Int = 20) async throws(PeriscopeError) -> Periscope_V1_IndexVerification {
        try await call(AdminMethods.verifyIndexes, .with { $0.differencesMax = UInt32(clamping: differencesMax) })
    }

    /// Every shard's digest on the node asked; with `namespace`, of that namespace's
    /// executions only, comparable across regions.
    public func replicaDigests(namespace: String = "") async throws(PeriscopeError) -> Periscope_V1_ReplicaDigests {
        try await call(AdminMethods.getReplicaDigests, .with { $0.namespace = namespace })
    }
}

extension PeriscopeClient {
    /// Writes copied from another store (`periscope migrate`), each ordered by its
    /// `source_order` rather than the namespace's failover version. Retried on transient
    /// failures: the order makes a write applied twice change nothing.
    public func importWrites(namespace: String, _ writes: [Periscope_V1_ImportedWrite]) async throws(PeriscopeError)
        -> Periscope_V1_ImportWritesResponse {
        try await call(AdminMethods.importWrites, .with {
            $0.namespace = namespace
            $0.writes = writes
        })
    }

    /// Counts and checksums of the executions started in `[from, to)` by buckets of
    /// `bucketSeconds`; with `listing` > 0 also (up to that many) each execution's fingerprint.
    public func checksumExecutions(namespace: String, from: Timestamp, to: Timestamp, bucketSeconds: Int64,
                                   listing: Int = 0) async throws(PeriscopeError) -> Periscope_V1_ChecksumExecutionsResponse {
        try await call(AdminMethods.checksumExecutions, .with {
            $0.namespace = namespace
            $0.startTimeFrom = RecordWire.wire(from)
            $0.startTimeTo = RecordWire.wire(to)
            $0.bucketSeconds = bucketSeconds
            $0.listExecutions = listing > 0
            $0.executionsMax = Int32(clamping: listing)
        })
    }
}
