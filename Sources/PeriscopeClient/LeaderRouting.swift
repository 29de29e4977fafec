import PeriscopeAPI
import PeriscopeRPC

/// Where a call goes: any node (queries scatter from whichever node gets them; namespace
/// changes are forwarded by the node), or the leader of the shard holding an execution
/// (writes, so that they do not take a forwarding hop).
enum CallRoute: Sendable {
    case anyNode
    case execution(namespace: String, workflowID: String)
}

/// The client's cache of the region's routing: shard → its leader's address, from the
/// admin service's shard map and cluster status, and namespace name → id (shards hash the
/// id). Loaded on first use, dropped when a node answers that it is not the leader or a
/// leader cannot be reached, and loaded again on the next routed call.
actor LeaderRouting {
    private struct Table {
        var shardCount: Int
        var leaders: [Int: RPCEndpoint]
    }

    private var table: Table?
    private var namespaceIDs: [String: String] = [:]
    /// Times the table was loaded (tests and diagnostics).
    private(set) var loads = 0

    /// The leader of the shard holding `workflowID`, or nil when the map names none (the
    /// call then goes to the seed node, which forwards or answers UNAVAILABLE).
    /// `timeout` bounds the whole lookup (up to three calls when nothing is cached).
    func leader(namespace: String, workflowID: String, via seed: RPCClient, timeout: Duration) async throws(RPCStatus) -> RPCEndpoint? {
        let deadline = ContinuousClock.now + timeout
        let table = try await loadedTable(via: seed, deadline: deadline)
        let namespaceID: String
        if let known = namespaceIDs[namespace] {
            namespaceID = known
        } else {
            namespaceID = try await seed.unary(VisibilityMethods.describeNamespace, .with { $0.name = namespace },
                                               timeout: Self.left(until: deadline)).namespace.id
            namespaceIDs[namespace] = namespaceID
        }
        let shard = ShardRouting.shard(namespaceId: namespaceID, workflowId: workflowID, shardCount: table.shardCount)
        return table.leaders[shard]
    }

    /// Forget the map: a node said it is not the leader, or a leader was unreachable.
    func invalidate() { table = nil }

    /// What is left until `deadline`, at least a millisecond (an RPC needs a positive deadline).
    static func left(until deadline: ContinuousClock.Instant) -> Duration { max(.milliseconds(1), deadline - .now) }

    private func loadedTable(via seed: RPCClient, deadline: ContinuousClock.Instant) async throws(RPCStatus) -> Table {
        if let table { return table }
        // The seed's own view: routing needs the members and their states, not the region's
        // replication streams, which the seed would gather from every member (and wait up to
        // a second on one cut off).
        let status = try await seed.unary(AdminMethods.getClusterStatus, .with { $0.localOnly = true }, timeout: Self.left(until: deadline))
        let map = try await seed.unary(AdminMethods.getShardMap, Periscope_V1_GetShardMapRequest(), timeout: Self.left(until: deadline))
        var addresses: [String: RPCEndpoint] = [:]
        // A leader the seed cannot reach (just died, cut off) is not routed to: its shards'
        // writes go to the seed, which forwards them once the group has elected anew.
        for node in status.nodes where node.state != .unreachable { addresses[node.nodeID] = try? RPCEndpoint(node.address) }
        var leaders: [Int: RPCEndpoint] = [:]
        for shard in map.shards {
            if let address = addresses[shard.leaderNodeID] { leaders[Int(shard.shardID)] = address }
        }
        let loaded = Table(shardCount: max(1, Int(status.shardCount)), leaders: leaders)
        table = loaded
        loads += 1
        return loaded
    }
}

extension PeriscopeError {
    /// The node answered that it does not lead the shard (`ReplicationError.notLeader`).
    var isNotLeader: Bool { code == .unavailable && message.contains("is not the leader") }
}
