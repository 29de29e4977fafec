import Foundation
import PeriscopeAPI
import PeriscopeRPC

/// Creating a region: what `periscope cluster init` does.
public struct RegionPlan: Sendable {
    public struct Member: Sendable, Hashable {
        public var nodeID: UInt64
        public var address: String
        public init(nodeID: UInt64, address: String) {
            self.nodeID = nodeID
            self.address = address
        }
    }

    public var region: String
    public var shardCount: Int
    public var members: [Member]

    public init(region: String, shardCount: Int, members: [Member]) {
        self.region = region
        self.shardCount = shardCount
        self.members = members
    }
}

/// Creating a deployment of several regions: each a region as `RegionPlan` describes, all
/// with the same shard count, one deployment id and one secret.
public struct DeploymentPlan: Sendable {
    public var shardCount: Int
    /// In index order: the first is the deployment's first region (namespaces are created there).
    public var regions: [RegionPlan]

    public init(shardCount: Int, regions: [RegionPlan]) {
        self.shardCount = shardCount
        self.regions = regions
    }
}

extension PeriscopeClient {
    /// Makes each region of `plan` a region (as `initializeRegion` does) and all of them one
    /// deployment: every member of every region gets the same deployment id and secret and the
    /// list of regions, region i (from 1) with index i. Returns the deployment id.
    public static func initializeDeployment(_ plan: DeploymentPlan, wait: Duration = .seconds(30)) async throws(PeriscopeError) -> String {
        var generator = SystemRandomNumberGenerator()
        let deploymentID = UUID().uuidString.lowercased()
        let secret = Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let directory: [Periscope_V1_DeploymentRegion] = plan.regions.enumerated().map { index, region in
            .with {
                $0.name = region.region
                $0.index = UInt32(index + 1)
                $0.addresses = region.members.map(\.address)
            }
        }
        for var region in plan.regions {
            region.shardCount = plan.shardCount
            _ = try await bootstrap(region, clusterID: deploymentID, secret: secret, deployment: directory, wait: wait)
        }
        return deploymentID
    }

    /// Makes the nodes of `plan` (started with `--wait-for-init`) one region: a new cluster
    /// id and page-token secret, sent to every member, which each write it durably. Members
    /// not listening yet are retried until `wait` passes. Running it again with the same
    /// A member that already belongs to a region (an init run before) refuses with
    /// ALREADY_EXISTS, naming it. Returns the new cluster id and the members it created.
    public static func initializeRegion(_ plan: RegionPlan, wait: Duration = .seconds(30)) async throws(PeriscopeError)
        -> (clusterID: String, created: [UInt64]) {
        var generator = SystemRandomNumberGenerator()
        let secret = Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let clusterID = UUID().uuidString.lowercased()
        return (clusterID, try await bootstrap(plan, clusterID: clusterID, secret: secret, deployment: [], wait: wait))
    }

    /// Sends every member of `plan` its `Bootstrap`; returns the members it created.
    private static func bootstrap(_ plan: RegionPlan, clusterID: String, secret: Data, deployment: [Periscope_V1_DeploymentRegion],
                                  wait: Duration) async throws(PeriscopeError) -> [UInt64] {
        let request = Periscope_V1_BootstrapRequest.with {
            $0.clusterID = clusterID
            $0.region = plan.region
            $0.shardCount = UInt32(clamping: plan.shardCount)
            $0.replicationFactor = UInt32(plan.members.count)
            $0.pageTokenKey = secret
            $0.members = plan.members.map { member in .with { $0.nodeID = member.nodeID; $0.address = member.address } }
            $0.deployment = deployment
        }
        let pool = RPCConnectionPool()
        defer { Task { await pool.close() } }
        var created: [UInt64] = []
        for member in plan.members {
            var asked = request
            asked.nodeID = member.nodeID
            let target = try endpoint(member.address)
            let deadline = ContinuousClock.now + wait
            while true {
                do {
                    let client = try await pool.client(for: target)
                    let answer = try await client.unary(ClusterPeerMethods.bootstrap, asked, timeout: .seconds(10))
                    if answer.created { created.append(member.nodeID) }
                    break
                } catch let status where status.code == .unavailable && ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(200))
                } catch {
                    throw PeriscopeError(code: PeriscopeError(error).code,
                                         message: "region \(plan.region), node \(member.nodeID) at \(member.address): \(error.message)")
                }
            }
        }
        return created
    }
}
