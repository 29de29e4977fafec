import Foundation
import PeriscopeAPI
import PeriscopeRPC
import PeriscopeShard

/// What a data directory belongs to, fixed when its region is created: the region, this
/// node's id, the shard count, the region's secret for page tokens, and the members the
/// region started with. Written once, durably, as `cluster.json`.
struct ClusterIdentity: Codable, Equatable {
    struct Member: Codable, Equatable, Sendable {
        var nodeID: UInt64
        var address: String
    }

    /// 1: a node alone (before replicated regions). 2: adds the initial members. 3: adds
    /// the deployment's regions.
    var format = 2
    var clusterID: String
    var region: String
    var nodeID: UInt64
    var shardCount: Int
    var pageTokenKey: String
    /// The region's first members (every group's first voters). Absent in format 1: the node alone.
    var members: [Member]?
    var replicationFactor: Int?
    /// This node joined a running region (`cluster add-node`): its groups were created empty
    /// and filled by their leaders, not from `members` as a genesis.
    var joined: Bool?
    /// Every region of the deployment, this one included (format 3). `clusterID` then names
    /// the deployment and `pageTokenKey` is its secret, the same in every region. Absent: a
    /// deployment of this region alone.
    var deployment: [DeploymentRegion]?

    static let fileName = "cluster.json"
    static let membersMax = 7

    var initialMembers: [Member] { members ?? [Member(nodeID: nodeID, address: "")] }

    /// The deployment as this node knows it: its regions, or this region alone.
    var directory: DeploymentDirectory {
        let regions = deployment ?? [DeploymentRegion(name: region, index: 1, addresses: initialMembers.map(\.address).filter { !$0.isEmpty })]
        return DeploymentDirectory(id: clusterID, regions: regions, local: region)
    }
    var pageTokenKeyBytes: [UInt8]? { Data(base64Encoded: pageTokenKey).map(Array.init) }

    /// The identity in `directory`, checked against how the node was started, or nil if the
    /// directory belongs to no region yet.
    static func load(in directory: String, configuration: NodeConfiguration) throws -> ClusterIdentity? {
        let path = directory + "/" + fileName
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let identity: ClusterIdentity
        do {
            identity = try JSONDecoder().decode(ClusterIdentity.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ShardError("\(path) is unreadable (\(error)); it says what this data directory is, restore it from a backup")
        }
        guard (1...3).contains(identity.format) else {
            throw ShardError("\(path) has format \(identity.format); this build reads formats 1 to 3")
        }
        guard identity.nodeID == configuration.nodeID else {
            throw ShardError("\(directory) belongs to node \(identity.nodeID); started as node \(configuration.nodeID)")
        }
        guard identity.pageTokenKeyBytes?.count == 32 else { throw ShardError("\(path): the page token key is not 32 bytes of base64") }
        if identity.initialMembers.count == 1, identity.shardCount != configuration.shardCount {
            throw ShardError("\(directory) was created with \(identity.shardCount) shards; started with --shards "
                + "\(configuration.shardCount) (the shard count is fixed when a region is created)")
        }
        return identity
    }

    /// A region of this node alone, created at its first start (`periscope node start`
    /// without `--wait-for-init`).
    static func createAlone(in directory: String, configuration: NodeConfiguration) throws -> ClusterIdentity {
        guard configuration.shardCount >= 1, configuration.shardCount <= 1_024 else {
            throw ShardError("a region has 1 ... 1024 shards; asked for \(configuration.shardCount)")
        }
        var generator = SystemRandomNumberGenerator()
        let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let identity = ClusterIdentity(clusterID: UUID().uuidString.lowercased(), region: configuration.region,
                                       nodeID: configuration.nodeID, shardCount: configuration.shardCount,
                                       pageTokenKey: Data(key).base64EncodedString(),
                                       members: [Member(nodeID: configuration.nodeID, address: "\(configuration.host):\(configuration.port)")],
                                       replicationFactor: 1)
        try identity.save(in: directory)
        return identity
    }

    /// The identity a `Bootstrap` request gives this node, or why the request is not one
    /// this node can take. Pure.
    static func from(_ request: Periscope_V1_BootstrapRequest, nodeID: UInt64) throws(RPCStatus) -> ClusterIdentity {
        guard request.nodeID == nodeID else {
            throw RPCStatus(.failedPrecondition, "this is node \(nodeID); the request is for node \(request.nodeID) (is the address right?)")
        }
        guard !request.clusterID.isEmpty, request.clusterID.utf8.count <= 64 else {
            throw RPCStatus(.invalidArgument, "cluster_id must be 1 ... 64 bytes")
        }
        if let problem = RegionName.problem(with: request.region) { throw RPCStatus(.invalidArgument, problem) }
        let deployment = try DeploymentDirectory.regions(from: request.deployment, local: request.region)
        guard (1...1_024).contains(request.shardCount) else {
            throw RPCStatus(.invalidArgument, "a region has 1 ... 1024 shards; the request says \(request.shardCount)")
        }
        guard request.pageTokenKey.count == 32 else {
            throw RPCStatus(.invalidArgument, "page_token_key must be 32 bytes; it has \(request.pageTokenKey.count)")
        }
        guard (1...membersMax).contains(request.members.count) else {
            throw RPCStatus(.invalidArgument, "a region starts with 1 ... \(membersMax) members; the request lists \(request.members.count)")
        }
        var ids: Set<UInt64> = []
        var addresses: Set<String> = []
        for member in request.members {
            guard member.nodeID != 0 else { throw RPCStatus(.invalidArgument, "node id 0 is reserved") }
            guard ids.insert(member.nodeID).inserted else { throw RPCStatus(.invalidArgument, "node \(member.nodeID) is listed twice") }
            do { _ = try RPCEndpoint(member.address) } catch {
                throw RPCStatus(.invalidArgument, "node \(member.nodeID): \(error.message)")
            }
            guard addresses.insert(member.address).inserted else {
                throw RPCStatus(.invalidArgument, "address \(member.address) is listed twice")
            }
        }
        guard ids.contains(nodeID) else { throw RPCStatus(.invalidArgument, "the members do not include this node (\(nodeID))") }
        // Every shard has a replica on every member: a replication factor below the member
        // count would need shard reads across nodes, which this build does not have.
        guard Int(request.replicationFactor) == request.members.count else {
            throw RPCStatus(.invalidArgument, "replication factor \(request.replicationFactor) with \(request.members.count) members: "
                + "this build places a replica of every shard on every member, so the factor must equal the member count")
        }
        return ClusterIdentity(format: deployment.isEmpty ? 2 : 3, clusterID: request.clusterID, region: request.region, nodeID: nodeID,
                               shardCount: Int(request.shardCount), pageTokenKey: request.pageTokenKey.base64EncodedString(),
                               members: request.members.map { Member(nodeID: $0.nodeID, address: $0.address) }
                                   .sorted { $0.nodeID < $1.nodeID },
                               replicationFactor: Int(request.replicationFactor), joined: request.joining ? true : nil,
                               deployment: deployment.isEmpty ? nil : deployment)
    }

    /// Whether `other` describes the same region (a repeated init): everything but how it was spelled.
    func isSameRegion(as other: ClusterIdentity) -> Bool {
        clusterID == other.clusterID && region == other.region && shardCount == other.shardCount
            && pageTokenKey == other.pageTokenKey && initialMembers == other.initialMembers && deployment == other.deployment
    }

    /// The deployment's regions as a `BootstrapRequest` carries them.
    var wireDeployment: [Periscope_V1_DeploymentRegion] {
        (deployment ?? []).map { region in
            .with {
                $0.name = region.name
                $0.index = region.index
                $0.addresses = region.addresses
            }
        }
    }

    func save(in directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let path = directory + "/" + Self.fileName
        try DurableFiles.write(try encoder.encode(self), to: path + ".tmp")
        try DurableFiles.rename(path + ".tmp", to: path)
    }
}
