import Foundation
import PeriscopeClient

/// What a chaos run starts: one region, as `periscope cluster init --topology` reads it
/// (`{"region": "chaos", "shards": 4, "nodes": [{"id": 1, "host": "127.0.90.1", "port": 7290}, ...]}`),
/// or a deployment of regions (`{"shards": 4, "regions": [{"region": "A", "nodes": [...]}, ...]}`,
/// the first region the namespace's home). Every node needs its own IPv4 address: the network
/// faults cut links between addresses.
struct Topology {
    struct Node {
        var id: UInt64
        var host: String
        var port: Int
        /// Index into `regions`.
        var region: Int
        /// Unique in the run: "n2", or "B-n2" in a deployment (ids repeat across regions).
        var name: String
        var address: String { "\(host):\(port)" }
    }

    struct Region {
        var name: String
        /// Indexes into `nodes`.
        var nodes: [Int]
    }

    var shards: Int
    var nodes: [Node]
    var regions: [Region]

    /// Several regions: writes go to the namespace's home (the first region) and replicate
    /// to the others asynchronously.
    var isDeployment: Bool { regions.count > 1 }
    /// The region that takes the namespace's writes.
    static let homeRegion = 0

    func isHome(_ node: Int) -> Bool { nodes[node].region == Self.homeRegion }

    static func load(_ path: String) throws -> Topology {
        let file: TopologyFile
        do { file = try TopologyFile.load(path) } catch { throw HarnessError(error.description) }
        let topology = try make(file, path)
        let hosts = topology.nodes.map(\.host)
        guard Set(hosts).count == hosts.count else {
            throw HarnessError("\(path): every node needs its own address (the faults cut links between addresses); got \(hosts)")
        }
        for host in hosts where !Self.isIPv4(host) {
            throw HarnessError("\(path): node host '\(host)' is not an IPv4 address (nftables rules name addresses)")
        }
        return topology
    }

    /// A client seeded at node `index`, every call bounded by `totalTimeout` (each attempt
    /// by `callTimeout` when given); nil when the node cannot be reached now.
    func client(_ index: Int, totalTimeout: Duration, callTimeout: Duration? = nil) async -> PeriscopeClient? {
        var configuration = PeriscopeClient.Configuration()
        configuration.totalTimeout = totalTimeout
        if let callTimeout { configuration.callTimeout = callTimeout }
        return try? await PeriscopeClient.connect(to: nodes[index].address, configuration: configuration)
    }

    private static func isIPv4(_ host: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, host, &address) == 1
    }

    private static func make(_ file: TopologyFile, _ path: String) throws -> Topology {
        if let nodes = file.nodes {
            guard nodes.count >= 3 else {
                throw HarnessError("\(path): a chaos run needs a region of at least 3 nodes; it has \(nodes.count)")
            }
            return make([TopologyFile.Region(region: file.region ?? "chaos", nodes: nodes)], shards: file.shards, deployment: false)
        }
        let regions = file.regions ?? []
        let names = regions.map(\.region)
        guard regions.count >= 2, Set(names).count == names.count, !names.contains("") else {
            throw HarnessError("\(path): a deployment needs at least 2 regions, each with its own name; got \(names)")
        }
        for region in regions where region.nodes.isEmpty || Set(region.nodes.map(\.id)).count != region.nodes.count {
            throw HarnessError("\(path): region \(region.region) needs at least one node, each with its own id")
        }
        guard regions.reduce(0, { $0 + $1.nodes.count }) >= 3 else {
            throw HarnessError("\(path): a chaos run needs at least 3 nodes in all")
        }
        return make(regions, shards: file.shards, deployment: true)
    }

    private static func make(_ regions: [TopologyFile.Region], shards: Int?, deployment: Bool) -> Topology {
        var topology = Topology(shards: shards ?? 4, nodes: [], regions: [])
        for (index, region) in regions.enumerated() {
            topology.regions.append(.init(name: region.region, nodes: Array(topology.nodes.count..<topology.nodes.count + region.nodes.count)))
            topology.nodes += region.nodes.map {
                Node(id: $0.id, host: $0.host, port: $0.port, region: index, name: deployment ? "\(region.region)-n\($0.id)" : "n\($0.id)")
            }
        }
        return topology
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
