import Foundation
import PeriscopeAPI
import PeriscopeModel
import PeriscopeRPC
import PeriscopeShard

/// Where namespaces live in a deployment of several regions: which region takes a
/// namespace's writes, forwarding changes to the region that orders them, and failovers.
extension VisibilityNode {
    /// Every name is a region of the deployment.
    func checkRegionsKnown(_ names: [String]) throws(RPCStatus) {
        for name in names where deployment.region(named: name) == nil {
            throw RPCStatus(.invalidArgument, "region '\(name)' is not in the deployment (its regions: \(deployment.names.joined(separator: ", ")))")
        }
    }

    /// The namespace, if this region takes its writes now; else an error that says where they go.
    func writableNamespace(named name: String) async throws -> NamespaceEntry {
        let entry = try await namespace(named: name)
        guard entry.homeRegion == region else {
            let addresses = links.addresses(of: entry.homeRegion).map(\.description)
            throw RPCStatus(.failedPrecondition, "namespace \(name) is not active in region \(region): its home is region "
                + "\(entry.homeRegion)" + (addresses.isEmpty ? "" : " (\(addresses.joined(separator: ", ")))") + "; send its writes there")
        }
        if let target = entry.handingOverTo {
            throw RPCStatus(.unavailable, "namespace \(name) is failing over from region \(region) to region \(target); its writes are "
                + "refused until \(target) takes them (retry shortly)")
        }
        return entry
    }

    /// Whether an error is the refusal of a write sent to a region that is not its namespace's home.
    static func isNotHome(_ status: RPCStatus) -> Bool { status.code == .failedPrecondition && status.message.contains("is not active in region") }

    /// The region that orders `entry`'s changes, if it is not this one.
    func homeElsewhere(_ entry: NamespaceEntry) -> String? { entry.homeRegion == region ? nil : entry.homeRegion }

    /// Takes into this region's catalog a namespace another region answered a forwarded
    /// change with, so that this region sees its own change at once (the sync would bring
    /// it within a second).
    func adopt(_ wire: Periscope_V1_Namespace, from region: String) async {
        _ = try? await takeNamespaces([WireConversions.entry(wire)], from: region)
    }

    /// The same for a namespace changed there whose answer carried no namespace.
    func adopt(namespace name: String, from region: String) async {
        guard let answer = try? await links.call(region, VisibilityMethods.describeNamespace, .with { $0.name = name }) else { return }
        await adopt(answer.namespace, from: region)
    }

    // MARK: Failover

    func placement(of entry: NamespaceEntry) -> Periscope_V1_NamespacePlacement {
        .with {
            $0.namespace = entry.name
            $0.homeRegion = entry.homeRegion
            $0.regions = entry.regions
            $0.failoverVersion = entry.failoverVersion
            $0.handingOverTo = entry.handingOverTo ?? ""
            $0.lagSeconds = entry.homeRegion == region ? 0 : namespaceLagSeconds(entry)
        }
    }

    /// How far this region lags the namespace's home for it, from the shards it leads (0
    /// where this node leads none).
    func namespaceLagSeconds(_ entry: NamespaceEntry) -> Double {
        let now = configuration.wallClock()
        return replication.allInbound.filter { $0.key.region == entry.homeRegion }.values
            .map { $0.namespaceLagSeconds(entry.id, now: now) }.max() ?? 0
    }

    /// `periscope namespace failover`. Planned: asked of (or forwarded to) the home, which
    /// starts a handover its failover controller completes once the target has every write
    /// (the answer comes at once; the placement shows the handover until then). Forced:
    /// asked of (or forwarded to) the target, which becomes the home at once.
    func failover(_ request: Periscope_V1_FailoverNamespaceRequest) async throws -> Periscope_V1_FailoverNamespaceResponse {
        try checkRegionsKnown([request.toRegion])
        var entry = try await namespace(named: request.namespace)
        guard entry.regions.contains(request.toRegion) || request.cancel else {
            throw RPCStatus(.failedPrecondition, "namespace \(entry.name) is not held by region \(request.toRegion) (its regions: "
                + "\(entry.regions.joined(separator: ", "))); add the region first (namespace update --regions), then fail over once "
                + "it has caught up")
        }
        if request.force {
            guard request.toRegion == region else { return try await forwardFailover(request, to: request.toRegion) }
            guard entry.homeRegion != region else { return .with { $0.placement = placement(of: entry) } }
            let missing = possiblyMissing(from: entry.homeRegion)
            let target = deployment.local.index
            entry = try await changeCatalog(.forceFailover(name: entry.name, to: region,
                                                           failoverVersion: DeploymentDirectory.nextFailoverVersion(after: entry.failoverVersion, for: target)))
            logger.warning("forced failover: this region is the namespace's home", metadata: [
                "namespace": "\(entry.name)", "failover_version": "\(entry.failoverVersion)",
                "possibly_missing_entries": "\(missing.entries)", "missing_lag_seconds": "\(missing.seconds)",
            ])
            return .with {
                $0.placement = placement(of: entry)
                $0.possiblyMissingEntries = missing.entries
                $0.missingLagSeconds = missing.seconds
                $0.missingUnknown = missing.unknown
            }
        }
        if let home = homeElsewhere(entry) { return try await forwardFailover(request, to: home) }
        if request.cancel {
            if entry.handingOverTo != nil {
                entry = try await changeCatalog(.cancelHandover(name: entry.name))
                _ = try await fenceEveryShard(entry.id, through: nil)
            }
            return .with { $0.placement = placement(of: entry) }
        }
        entry = try await changeCatalog(.beginHandover(name: entry.name, to: request.toRegion))
        logger.notice("planned failover started", metadata: ["namespace": "\(entry.name)", "to": "\(request.toRegion)"])
        return .with { $0.placement = placement(of: entry) }
    }

    private func forwardFailover(_ request: Periscope_V1_FailoverNamespaceRequest, to region: String) async throws
        -> Periscope_V1_FailoverNamespaceResponse {
        let answer = try await links.call(region, AdminMethods.failoverNamespace, request, timeout: configuration.forwardTimeout)
        await adopt(namespace: request.namespace, from: region)
        return answer
    }

    /// What this region had not received from `home` when a forced failover took over: log
    /// positions behind summed over the shards, and how old the oldest missing write was.
    /// Unknown for a shard whose stream never reported (its replication never ran here).
    func possiblyMissing(from home: String) -> (entries: UInt64, seconds: Double, unknown: Bool) {
        let now = configuration.wallClock()
        var entries: UInt64 = 0
        var seconds = 0.0
        var unknown = false
        for shard in 0..<shardCount {
            guard let stream = replication.inbound(from: home, shard: shard), stream.lastContact != nil || stream.sourceApplied > 0 else {
                unknown = true
                continue
            }
            let cursor = shards[shard].replicationCursor(from: deployment.region(named: home)?.index ?? 0)
            entries += stream.sourceApplied > cursor ? stream.sourceApplied - cursor : 0
            seconds = max(seconds, stream.lagSeconds(now: now))
        }
        return (entries, seconds, unknown)
    }

    /// Proposes a fence (or lifts it) on every shard, concurrently; the index each landed at.
    func fenceEveryShard(_ namespaceId: String, through: Int64?) async throws -> [UInt64] {
        try await withThrowingTaskGroup(of: (Int, UInt64).self) { tasks in
            for shard in 0..<shardCount {
                tasks.addTask {
                    let applied = try await self.proposeOnLeader(self.groups[shard],
                                                                 ShardCommand.fence(namespaceId: namespaceId, throughFailoverVersion: through).encoded())
                    return (shard, applied.index)
                }
            }
            var indexes = [UInt64](repeating: 0, count: shardCount)
            for try await (shard, index) in tasks { indexes[shard] = index }
            return indexes
        }
    }
}

/// Completes the planned failovers of the namespaces homed in this region, on the node
/// leading its catalog: fences each shard (this region's writes of the namespace are refused
/// from then on), waits until the target region has durably received every shard through its
/// fence, then makes the target the home under a failover version it issues. Each step is
/// asked again on every pass, so a new catalog leader continues where one died.
struct FailoverController {
    let node: VisibilityNode

    func run(every interval: Duration = .milliseconds(200)) async {
        guard node.deployment.isMultiRegion else { return }
        var fenced: [String: (failoverVersion: Int64, indexes: [UInt64])] = [:]
        var seen = node.catalogChanged.rings
        while !Task.isCancelled {
            if node.catalogGroup.status.leader == node.nodeID {
                for entry in node.catalog.namespaces where entry.homeRegion == node.region && entry.handingOverTo != nil {
                    do {
                        try await step(entry, fenced: &fenced)
                    } catch {
                        node.logger.info("planned failover waits", metadata: ["namespace": "\(entry.name)", "why": "\(error)"])
                    }
                }
            }
            await node.catalogChanged.wait(after: seen, timeout: interval)
            seen = node.catalogChanged.rings
        }
    }

    private func step(_ entry: NamespaceEntry, fenced: inout [String: (failoverVersion: Int64, indexes: [UInt64])]) async throws {
        guard let target = entry.handingOverTo, let region = node.deployment.region(named: target) else { return }
        if fenced[entry.name]?.failoverVersion != entry.failoverVersion {
            fenced[entry.name] = (entry.failoverVersion, try await node.fenceEveryShard(entry.id, through: entry.failoverVersion))
        }
        let fences = fenced[entry.name]!.indexes
        let cursors = try await node.links.call(target, RegionPeerMethods.getReplicationCursors, .with {
            $0.deploymentID = node.deployment.id
            $0.sourceRegion = node.region
        })
        guard cursors.cursors.count == fences.count else {
            throw RPCStatus(.internalError, "region \(target) answered \(cursors.cursors.count) shard cursors; this region has \(fences.count) shards")
        }
        let behind = zip(cursors.cursors, fences).enumerated().filter { $0.element.0 < $0.element.1 }
        guard behind.isEmpty else {
            throw RPCStatus(.unavailable, "region \(target) has not received shards "
                + behind.map { "\($0.offset) (\($0.element.0) of \($0.element.1))" }.joined(separator: ", ") + " yet")
        }
        let version = DeploymentDirectory.nextFailoverVersion(after: entry.failoverVersion, for: region.index)
        let after = try await node.changeCatalog(.completeHandover(name: entry.name, failoverVersion: version))
        fenced[entry.name] = nil
        node.logger.notice("planned failover done: the namespace's home moved with nothing lost", metadata: [
            "namespace": "\(after.name)", "home": "\(after.homeRegion)", "failover_version": "\(after.failoverVersion)",
        ])
    }
}
