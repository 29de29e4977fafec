import Foundation

/// A topology file, as `periscope cluster init --topology`, `cluster/start.sh` and the chaos
/// harness read it: one region (`{"region": "local", "shards": 4, "nodes": [{"id": 1, "host":
/// "127.0.0.2", "port": 7280}, ...]}`) or a deployment of regions (`{"shards": 4, "regions":
/// [{"region": "A", "nodes": [...]}, ...]}`, the first region the deployment's first).
public struct TopologyFile: Decodable, Sendable {
    public struct Node: Decodable, Sendable {
        public var id: UInt64
        public var host: String
        public var port: Int
        public var address: String { "\(host):\(port)" }
    }

    public struct Region: Decodable, Sendable {
        public var region: String
        public var nodes: [Node]

        public init(region: String, nodes: [Node]) {
            self.region = region
            self.nodes = nodes
        }
    }

    public var region: String?
    public var shards: Int?
    public var nodes: [Node]?
    public var regions: [Region]?

    /// Reads `path`; refuses a file that is not JSON of this shape, or that gives both or
    /// neither of "nodes" and "regions".
    public static func load(_ path: String) throws(TopologyFileError) -> TopologyFile {
        let file: TopologyFile
        do {
            file = try JSONDecoder().decode(TopologyFile.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw TopologyFileError(description: "cannot read the topology file \(path): \(error)")
        }
        guard (file.nodes == nil) != (file.regions == nil) else {
            throw TopologyFileError(description: "the topology file \(path) must have either \"nodes\" (one region) or \"regions\" (a deployment), not both or neither")
        }
        return file
    }

    public static func members(_ nodes: [Node]) -> [RegionPlan.Member] {
        nodes.map { RegionPlan.Member(nodeID: $0.id, address: $0.address) }
    }
}

public struct TopologyFileError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
