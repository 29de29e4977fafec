import Foundation
import PeriscopeAPI
import PeriscopeModel
import PeriscopeRPC

/// Replication between regions as `cluster status` and `/metrics` show it. A stream into a
/// shard runs on the node leading the shard, so each node knows the streams into the shards
/// it leads; the cursors themselves are replicated state every replica has. A full status
/// asks every member for its own view and keeps, per shard, the answer of the node running
/// the stream.
extension VisibilityNode {
    /// This node's view: every other region with each shard's cursor (from the local
    /// replica) and, for the shards it leads, the stream's state and lag.
    func localReplicationStatus() -> (regions: [Periscope_V1_RegionStatus], lags: [Periscope_V1_NamespaceLag]) {
        guard deployment.isMultiRegion else { return ([], []) }
        let now = configuration.wallClock()
        let streams = replication.allInbound
        let regions = deployment.regions.map { region in
            Periscope_V1_RegionStatus.with { status in
                status.name = region.name
                status.index = region.index
                status.local = region.name == self.region
                status.addresses = status.local ? regionMap.map.members.map(\.address) : links.addresses(of: region.name).map(\.description)
                guard !status.local else { return }
                status.inbound = (0..<shardCount).map { shard in
                    let stream = streams[ReplicationState.Key(region: region.name, shard: shard)]
                    let leads = groups[shard].status.leader == nodeID
                    return .with {
                        $0.shardID = UInt32(shard)
                        $0.cursor = shards[shard].replicationCursor(from: region.index)
                        $0.sourceApplied = stream?.sourceApplied ?? 0
                        $0.lagSeconds = stream?.lagSeconds(now: now) ?? 0
                        $0.state = leads ? (stream?.phaseDescription ?? "starting") : Self.ledElsewhere
                    }
                }
            }
        }
        var lags: [String: Double] = [:]
        for entry in catalog.namespaces where entry.homeRegion != region && entry.isHeld(by: region) {
            lags[entry.name + "\u{0}" + entry.homeRegion] = namespaceLagSeconds(entry)
        }
        return (regions, lags.sorted { $0.key < $1.key }.map { key, lag in
            let parts = key.split(separator: "\u{0}", maxSplits: 1).map(String.init)
            return .with {
                $0.namespace = parts[0]
                $0.sourceRegion = parts[1]
                $0.lagSeconds = lag
            }
        })
    }

    static let ledElsewhere = "led by another node"

    /// The region's view: this node's, with each shard's stream as the member running it
    /// reports it (members that do not answer within a second, connecting included, are
    /// left out: a cut-off member must not hold up the status clients route by), and each
    /// namespace's lag as the largest any member reports.
    func regionReplicationStatus() async -> (regions: [Periscope_V1_RegionStatus], lags: [Periscope_V1_NamespaceLag]) {
        var (regions, lags) = localReplicationStatus()
        guard !regions.isEmpty else { return (regions, lags) }
        let others = regionMap.map.members.filter { $0.nodeID != nodeID }.compactMap { try? RPCEndpoint($0.address) }
        let answers = await withTaskGroup(of: Periscope_V1_ClusterStatus?.self) { tasks in
            for endpoint in others {
                tasks.addTask {
                    try? await self.transport.pool.unary(endpoint, AdminMethods.getClusterStatus, .with { $0.localOnly = true },
                                                         timeout: .seconds(1))
                }
            }
            return await tasks.reduce(into: [Periscope_V1_ClusterStatus]()) { if let answer = $1 { $0.append(answer) } }
        }
        for answer in answers {
            for remote in answer.regions where !remote.local {
                guard let index = regions.firstIndex(where: { $0.name == remote.name }) else { continue }
                for shard in remote.inbound where shard.state != Self.ledElsewhere {
                    if let position = regions[index].inbound.firstIndex(where: { $0.shardID == shard.shardID }),
                       regions[index].inbound[position].state == Self.ledElsewhere {
                        regions[index].inbound[position] = shard
                    }
                }
            }
            for lag in answer.namespaceLags {
                if let position = lags.firstIndex(where: { $0.namespace == lag.namespace && $0.sourceRegion == lag.sourceRegion }) {
                    lags[position].lagSeconds = max(lags[position].lagSeconds, lag.lagSeconds)
                } else {
                    lags.append(lag)
                }
            }
        }
        return (regions, lags)
    }

    /// Replication gauges for the streams this node runs: lag by source region and shard,
    /// log positions behind, and lag by namespace (the largest over this node's shards).
    func recordReplicationMetrics() {
        guard deployment.isMultiRegion else { return }
        let now = configuration.wallClock()
        for (key, stream) in replication.allInbound where groups[key.shard].status.leader == nodeID {
            let labels = [("source_region", key.region), ("shard", String(key.shard))]
            let cursor = deployment.region(named: key.region).map { shards[key.shard].replicationCursor(from: $0.index) } ?? 0
            metrics.gauge("periscope_replication_lag_seconds", labels).record(stream.lagSeconds(now: now))
            metrics.gauge("periscope_replication_behind_entries", labels)
                .record(Double(stream.sourceApplied > cursor ? stream.sourceApplied - cursor : 0))
            metrics.gauge("periscope_replication_writes_applied", labels).record(Double(stream.writesApplied))
            metrics.gauge("periscope_replication_reconciled_lost", labels).record(Double(stream.incomingLost))
            metrics.gauge("periscope_replication_reconciled_replaced", labels).record(Double(stream.storedReplaced))
            metrics.gauge("periscope_replication_backfills", labels).record(Double(stream.backfills))
            metrics.gauge("periscope_replication_streaming", labels).record(stream.phase == .streaming ? 1 : 0)
        }
        for entry in catalog.namespaces where entry.homeRegion != region && entry.isHeld(by: region) {
            metrics.gauge("periscope_replication_namespace_lag_seconds", [("namespace", entry.name), ("source_region", entry.homeRegion)])
                .record(namespaceLagSeconds(entry))
        }
    }
}
