import Foundation
import PeriscopeAPI
import PeriscopeClient
import PeriscopeRPC
import PeriscopeTestSupport
import Testing

/// A deployment of regions of real node processes, region i (from 0) on loopback addresses
/// 127.0.`firstSubnet + i`.x, made one deployment by `initializeDeployment` (what `cluster
/// init --topology` does). Every node serves fault injection.
final class DeploymentProcesses: @unchecked Sendable {
    // @unchecked: `regions` is fixed after start; each region's nodes change only on the test's task.
    let regions: [String: RegionProcesses]
    let names: [String]

    static func start(_ names: [String] = ["A", "B", "C"], nodesPerRegion: Int = 1, firstSubnet: Int, shards: Int = 4,
                      extra: [String] = [], extraByRegion: [String: [String]] = [:]) async throws -> DeploymentProcesses {
        var regions: [String: RegionProcesses] = [:]
        for (offset, name) in names.enumerated() {
            regions[name] = try RegionProcesses(name: name, count: nodesPerRegion, subnet: firstSubnet + offset,
                                                extra: ["--allow-fault-injection"] + extra + (extraByRegion[name] ?? []))
        }
        let deployment = DeploymentProcesses(regions: regions, names: names)
        let launching = deployment.regions
        let plan = DeploymentPlan(shardCount: shards, regions: names.map { launching[$0]!.plan(shards: shards) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for name in names { group.addTask { try await launching[name]!.launchAll(beside: {}) } }
            group.addTask { _ = try await PeriscopeClient.initializeDeployment(plan, wait: .seconds(60)) }
            try await group.waitForAll()
        }
        for name in names { try await deployment.regions[name]!.awaitReady(via: 1) }
        return deployment
    }

    private init(regions: [String: RegionProcesses], names: [String]) {
        self.regions = regions
        self.names = names
    }

    func client(_ region: String, node: UInt64 = 1, configure: (inout PeriscopeClient.Configuration) -> Void = { _ in }) async throws
        -> PeriscopeClient {
        try await regions[region]!.client(node, configure: configure)
    }

    func address(_ region: String, node: UInt64 = 1) -> String { regions[region]!.address(of: node) }

    /// Cuts `region` off from `others` (default: every other region) in both directions (each
    /// side refuses and drops the other's calls and streams), or heals it with `cut: false`.
    func cutOff(_ region: String, from others: [String]? = nil, cut: Bool = true) async throws {
        let others = others ?? names.filter { $0 != region }
        for name in [region] + others {
            let isolated = cut ? (name == region ? others : [region]) : []
            for id in regions[name]!.nodes.keys {
                let peer = try RPCEndpoint(regions[name]!.address(of: id))
                let rpc = try await RPCClient.connect(host: peer.host, port: peer.port)
                _ = try await rpc.unary(ClusterPeerMethods.injectPartition, .with { $0.isolatedFromRegions = isolated })
                await rpc.close()
            }
        }
    }

    /// Each region's digest of `namespace` (its executions, without log positions), by shard,
    /// as the region's node 1 holds them.
    func namespaceDigest(_ namespace: String, in region: String) async throws -> [UInt32: String] {
        let client = try await client(region)
        defer { Task { await client.close() } }
        let digests = try await client.replicaDigests(namespace: namespace)
        return Dictionary(uniqueKeysWithValues: digests.replicas.map { ($0.shardID, $0.sha256) })
    }

    /// Waits until every running region holds the same digest of `namespace`: nil when they
    /// do, else what differs at the deadline.
    func converged(_ namespace: String, regions names: [String]? = nil, timeout: Duration = .seconds(60)) async -> String? {
        var last = ""
        let agree = await waitUntil(timeout: timeout) {
            var digests: [String: [UInt32: String]] = [:]
            for name in names ?? self.names {
                guard let digest = try? await self.namespaceDigest(namespace, in: name) else {
                    last = "region \(name) did not answer"
                    return false
                }
                digests[name] = digest
            }
            last = Self.describe(digests)
            return Set(digests.values).count == 1
        }
        return agree ? nil : "regions differ: \(last)"
    }

    private static func describe(_ digests: [String: [UInt32: String]]) -> String {
        var lines: [String] = []
        for (name, shards) in digests.sorted(by: { $0.key < $1.key }) {
            var parts: [String] = []
            for (shard, digest) in shards.sorted(by: { $0.key < $1.key }) {
                parts.append("\(shard)=" + String(digest.prefix(12)))
            }
            lines.append("\(name): " + parts.joined(separator: " "))
        }
        return lines.joined(separator: "; ")
    }

    /// The workflow ids of `namespace`'s executions a region's node 1 holds (eventual reads of
    /// its own replicas).
    func workflowIDs(_ namespace: String, in region: String, scope: QueryScope = .local) async throws -> [String] {
        let client = try await client(region)
        defer { Task { await client.close() } }
        var ids: [String] = []
        for try await execution in client.executions(namespace: namespace, pageSize: 1_000, scope: scope) { ids.append(execution.workflowID) }
        return ids
    }

    /// One Prometheus sample of node 1 of `region`, summed over its label sets.
    func metric(_ name: String, in region: String) async throws -> Double {
        let scrape = try await runTool("/usr/bin/curl", ["-s", "--http2-prior-knowledge", "http://\(address(region))/metrics"])
        return scrape.stdout.split(separator: "\n")
            .filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }
            .compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
    }

    func killAll() {
        for region in regions.values { region.killAll() }
    }
}
