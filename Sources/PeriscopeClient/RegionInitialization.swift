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

extension PeriscopeClient {
    /// Makes the nodes of `plan` (started with `--wait-for-init`) one region: a new cluster
    /// id and page-token secret, sent to every member, which each write it durably. Members
    /// not listening yet are retried until `wait` passes. Running it again with the same
    /// A member that already belongs to a region (an init run before) refuses with
    /// ALREADY_EXISTS, naming it. Returns the new cluster id and the members it created.
    public static func initializeRegion(_ plan: RegionPlan, wait: Duration = .seconds(30)) async throws(PeriscopeError)
        -> (clusterID: String, created: [UInt64]) {
        var generator = SystemRandomNumberGenerator()
        let request = Periscope_V1_BootstrapRequest.with {
            $0.clusterID = UUID().uuidString.lowercased()
            $0.region = plan.region
            $0.shardCount = UInt32(clamping: plan.shardCount)
            $0.replicationFactor = UInt32(plan.members.count)
            $0.pageTokenKey = Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
            $0.members = plan.members.map { member in .with { $0.nodeID = member.nodeID; $0.address = member.address } }
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
                    throw PeriscopeError(code: PeriscopeError(error).code, message: "node \(member.nodeID) at \(member.address): \(error.message)")
                }
            }
        }
        return (request.clusterID, created)
    }
}
