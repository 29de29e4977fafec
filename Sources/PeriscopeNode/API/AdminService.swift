import PeriscopeAPI
import PeriscopeRaft
import PeriscopeRPC
import PeriscopeShard

/// `periscope.v1.AdminService` on a node: the region's members and shards as this node sees
/// them (every node holds a replica of every group, so each can answer for all), adding and
/// removing nodes (recorded in the region map, carried out by the membership controller),
/// leadership transfer, forwarded to the shard's leader, and namespace placement and failover
/// across the deployment's regions.
public struct AdminService: Sendable {
    let node: VisibilityNode

    public init(node: VisibilityNode) { self.node = node }

    public func register(in router: inout RPCRouter) {
        let node = self.node
        VisibilityService.route(AdminMethods.getClusterStatus, &router, metrics: node.metrics, kind: "admin") { request in
            var status = node.clusterStatus()
            (status.regions, status.namespaceLags) = request.localOnly ? node.localReplicationStatus() : await node.regionReplicationStatus()
            return status
        }
        VisibilityService.route(AdminMethods.getShardMap, &router, metrics: node.metrics, kind: "admin") { _ in
            node.shardMap()
        }
        VisibilityService.route(AdminMethods.importWrites, &router, metrics: node.metrics, kind: "write") { request in
            try await VisibilityService(node: node).importWrites(request)
        }
        VisibilityService.route(AdminMethods.checksumExecutions, &router, metrics: node.metrics, kind: "read") { request in
            let namespace = try await node.namespace(named: request.namespace)
            let sums = try await node.checksums(namespace: namespace,
                                                from: try WireConversions.timestamp(request.startTimeFrom, field: "start_time_from"),
                                                to: try WireConversions.timestamp(request.startTimeTo, field: "start_time_to"),
                                                bucketSeconds: request.bucketSeconds,
                                                listing: request.listExecutions ? Int(request.executionsMax) : 0)
            let width = request.bucketSeconds
            return .with { response in
                response.buckets = sums.buckets.sorted { $0.key < $1.key }.map { number, bucket in
                    .with {
                        $0.start = .with { $0.seconds = request.startTimeFrom.seconds + number * width; $0.nanos = request.startTimeFrom.nanos }
                        $0.count = bucket.count
                        $0.checksum = bucket.checksum
                    }
                }
                response.executions = sums.executions.map { execution in
                    .with {
                        $0.workflowID = execution.workflowId
                        $0.runID = execution.runId
                        $0.fingerprint = execution.fingerprint
                        $0.startTime = WireConversions.wire(execution.startTime)
                    }
                }
                response.executionsTruncated = sums.truncated
            }
        }
        VisibilityService.route(AdminMethods.addNode, &router, metrics: node.metrics, kind: "admin") { request in
            let map = try await node.addNode(id: request.nodeID, address: request.address)
            return .with { $0.shardMap = node.shardMap(atLeast: map.version) }
        }
        VisibilityService.route(AdminMethods.removeNode, &router, metrics: node.metrics, kind: "admin") { request in
            let map = try await node.removeNode(id: request.nodeID)
            return .with { $0.shardMap = node.shardMap(atLeast: map.version) }
        }
        VisibilityService.route(AdminMethods.getNamespacePlacement, &router, metrics: node.metrics, kind: "admin") { request in
            node.placement(of: try await node.namespace(named: request.namespace))
        }
        VisibilityService.route(AdminMethods.failoverNamespace, &router, metrics: node.metrics, kind: "admin") { request in
            try await node.failover(request)
        }
        VisibilityService.route(AdminMethods.transferLeadership, &router, metrics: node.metrics, kind: "admin") { request in
            try await node.transferLeadership(shard: Int(request.shardID), to: request.targetNodeID)
        }
        VisibilityService.route(AdminMethods.getReplicaDigests, &router, metrics: node.metrics, kind: "admin") { request in
            let namespaceId = request.namespace.isEmpty ? nil : try await node.namespace(named: request.namespace).id
            let digests = try await node.onShards(Array(0..<node.shardCount)) { shard in
                if let namespaceId { return try node.shards[shard].namespaceDigest(namespaceId) }
                return try node.shards[shard].replicaDigest()
            }
            return .with {
                $0.nodeID = String(node.nodeID)
                $0.replicas = digests.sorted { $0.key < $1.key }.map { shard, digest in
                    .with {
                        $0.shardID = UInt32(shard)
                        $0.appliedIndex = digest.appliedIndex
                        $0.entries = UInt64(digest.entries)
                        $0.sha256 = digest.sha256
                    }
                }
            }
        }
        VisibilityService.route(AdminMethods.verifyIndexes, &router, metrics: node.metrics, kind: "admin") { request in
            let differencesMax = request.differencesMax == 0 ? 20 : Int(min(request.differencesMax, 1_000))
            let reports = await node.onShardsSettled(Array(0..<node.shardCount)) { shard in
                try node.shards[shard].verify(differencesMax: differencesMax)
            }
            return .with {
                $0.nodeID = String(node.nodeID)
                $0.shards = reports.sorted { $0.key < $1.key }.map { shard, outcome in
                    .with {
                        $0.shardID = UInt32(shard)
                        switch outcome {
                        case .success(let report):
                            $0.consistent = report.isConsistent
                            $0.watermark = report.watermark
                            $0.executionsChecked = UInt64(report.executionsChecked)
                            $0.entryCounts = ShardIndex.allCases.map {
                                "\($0.rawValue) \(report.entriesFound[$0] ?? 0)/\(report.entriesExpected[$0] ?? 0)"
                            }
                            $0.differences = report.differences.map(\.description)
                        case .failure(let error):
                            $0.error = "\(error)"
                        }
                    }
                }
            }
        }
    }
}

extension VisibilityNode {
    func clusterStatus() -> Periscope_V1_ClusterStatus {
        let placements = shardPlacements()
        let map = regionMap.map
        return .with {
            $0.region = region
            $0.deploymentID = deployment.id
            $0.shardCount = UInt32(shardCount)
            $0.replicationFactor = UInt32(map.activeIDs.count)
            $0.nodes = map.members.map { member in
                let leads = placements.filter { $0.leaderNodeID == String(member.nodeID) }.count
                return .with {
                    $0.nodeID = String(member.nodeID)
                    $0.address = member.nodeID == nodeID ? address : member.address
                    switch member.state {
                    case .joining: $0.state = .joining
                    case .leaving: $0.state = .leaving
                    case .active where member.nodeID == nodeID: $0.state = isReady ? .active : .joining
                    case .active: $0.state = transport.isConnected(to: member.nodeID) ? .active : .unreachable
                    }
                    $0.leaderCount = UInt32(leads)
                    $0.replicaCount = UInt32(placements.filter { $0.replicas.contains { $0.nodeID == String(member.nodeID) } }.count)
                }
            }
            $0.unavailableShards = placements.filter { $0.leaderNodeID.isEmpty }.map(\.shardID)
        }
    }

    /// The shards' placements, versioned by the region map (clients cache routing by it);
    /// `atLeast`: a version a change just returned, which this replica may not have applied yet.
    func shardMap(atLeast version: UInt64 = 0) -> Periscope_V1_ShardMap {
        .with {
            $0.version = max(version, regionMap.map.version)
            $0.shards = shardPlacements()
        }
    }

    /// Each shard's replicas, leader, term and commit index, as this node's replica knows
    /// them (a leader also knows how far each replica has matched its log).
    func shardPlacements() -> [Periscope_V1_ShardPlacement] {
        groups.enumerated().map { index, group in
            let status = group.status
            return .with {
                $0.shardID = UInt32(index)
                $0.replicas = (status.voters.map { ($0, true) } + status.learners.map { ($0, false) }).sorted { $0.0 < $1.0 }.map { member, voter in
                    .with {
                        $0.nodeID = String(member)
                        $0.role = voter ? .voter : .learner
                        $0.appliedIndex = member == nodeID ? status.appliedIndex : status.matched[member] ?? 0
                    }
                }
                $0.leaderNodeID = status.leader.map(String.init) ?? ""
                $0.term = status.term
                $0.commitIndex = status.committedIndex
            }
        }
    }

    /// Hands shard `shard`'s leadership to node `target` and waits until it leads. Asked of
    /// any node: forwarded to the current leader.
    func transferLeadership(shard: Int, to target: String) async throws -> Periscope_V1_TransferLeadershipResponse {
        guard shard >= 0, shard < shardCount else {
            throw RPCStatus(.invalidArgument, "shard \(shard) does not exist; the region has shards 0 ... \(shardCount - 1)")
        }
        guard let targetID = UInt64(target), memberIDs.contains(targetID) else {
            throw RPCStatus(.invalidArgument, "node '\(target)' is not a member of the region (members: "
                + "\(memberIDs.map(String.init).joined(separator: ", ")))")
        }
        let group = groups[shard]
        let deadline = ContinuousClock.now + configuration.leaderWaitTimeout
        var asked = false
        while ContinuousClock.now < deadline {
            let status = group.status
            if status.leader == targetID {
                return .with {
                    $0.leaderNodeID = target
                    $0.term = status.term
                }
            }
            if !asked, let leader = status.leader {
                if leader == nodeID {
                    try await group.transferLeadership(to: targetID)
                } else if let endpoint = transport.address(of: leader) {
                    return try await transport.pool.unary(endpoint, AdminMethods.transferLeadership, .with {
                        $0.shardID = UInt32(shard)
                        $0.targetNodeID = target
                    }, timeout: configuration.leaderWaitTimeout)
                }
                asked = true
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw RPCStatus(.unavailable, "shard \(shard): node \(target) did not take leadership within \(configuration.leaderWaitTimeout) "
            + "(leader now: \(group.status.leader.map(String.init) ?? "none"))")
    }
}
