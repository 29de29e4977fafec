import Foundation
import PeriscopeClient

/// A region's topology file, as `periscope cluster init --topology` reads it:
/// `{"region": "local", "shards": 4, "nodes": [{"id": 1, "host": "127.0.0.2", "port": 7280}, ...]}`.
/// Each node must have its own IPv4 address: the network faults cut links between addresses.
struct Topology: Decodable {
    struct Node: Decodable {
        var id: UInt64
        var host: String
        var port: Int
        var address: String { "\(host):\(port)" }
    }

    var region: String?
    var shards: Int
    var nodes: [Node]

    static func load(_ path: String) throws -> Topology {
        let topology: Topology
        do {
            topology = try JSONDecoder().decode(Topology.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw HarnessError("cannot read the topology file \(path): \(error)")
        }
        guard topology.nodes.count >= 3 else {
            throw HarnessError("\(path): a chaos run needs a region of at least 3 nodes; it has \(topology.nodes.count)")
        }
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
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
