import Foundation
import PeriscopeAPI
import PeriscopeClient
import PeriscopeTestSupport
import Testing

/// A region of `periscope node start --wait-for-init` child processes, node i on loopback
/// address 127.0.`subnet`.(i+1) (distinct addresses, as the chaos harness will cut links
/// between them), all on one port found free, made one region by `initializeRegion`.
final class RegionProcesses: @unchecked Sendable {
    // @unchecked: `nodes` changes only on the test's own task (start, kill, restart, stop).
    let directory: String
    let subnet: Int
    let port: Int
    let extra: [String]
    /// Options for one node only, by id.
    let perNode: [UInt64: [String]]
    private(set) var nodes: [UInt64: NodeProcess] = [:]
    let ids: [UInt64]
    /// The region's name ("test" for a region made alone).
    let name: String

    func host(of id: UInt64) -> String { "127.0.\(subnet).\(id + 1)" }
    func address(of id: UInt64) -> String { "\(host(of: id)):\(port)" }

    static func start(count: Int, subnet: Int, shards: Int = 4, extra: [String] = [], perNode: [UInt64: [String]] = [:]) async throws
        -> RegionProcesses {
        let region = try RegionProcesses(count: count, subnet: subnet, extra: extra, perNode: perNode)
        try await region.launchAll(beside: { _ = try await PeriscopeClient.initializeRegion(region.plan(shards: shards), wait: .seconds(60)) })
        return region
    }

    /// A region whose nodes are not started yet (`launchAll`); named other than "test", its
    /// nodes start with `--region name` (a region of a deployment).
    init(name: String = "test", count: Int, subnet: Int, extra: [String], perNode: [UInt64: [String]] = [:]) throws {
        self.perNode = perNode
        self.directory = try CLITests.temporaryDirectory()
        self.subnet = subnet
        self.port = try Self.freePort(host: "127.0.\(subnet).2")
        self.ids = (1...UInt64(count)).map { $0 }
        self.name = name
        self.extra = extra + (name == "test" ? [] : ["--region", name])
    }

    func plan(shards: Int) -> RegionPlan {
        RegionPlan(region: name, shardCount: shards, members: ids.map { RegionPlan.Member(nodeID: $0, address: address(of: $0)) })
    }

    /// Starts every node (`--wait-for-init`) while `initialize` makes them a region.
    func launchAll(beside initialize: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: (UInt64, NodeProcess)?.self) { group in
            for id in ids { group.addTask { (id, try await self.launch(id)) } }
            group.addTask {
                try await initialize()
                return nil
            }
            for try await started in group {
                if let (id, process) = started { nodes[id] = process }
            }
        }
    }

    private func launch(_ id: UInt64) async throws -> NodeProcess {
        let home = directory + "/n\(id)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        return try await NodeProcess.start(data: home + "/data", host: host(of: id), port: port,
                                           extra: ["--wait-for-init", "--node-id", "\(id)"] + extra + (perNode[id] ?? []), timeout: .seconds(90))
    }

    /// Starts node `id` with `--wait-for-init`, outside the region until `cluster add-node`
    /// adds it; returns once it serves as a member (so run it beside the add).
    func launchJoining(_ id: UInt64) async throws {
        precondition(nodes[id] == nil, "node \(id) is running")
        let process = try await launch(id)
        nodes[id] = process
    }

    func kill(_ id: UInt64) {
        nodes[id]?.killMinusNine()
        nodes[id] = nil
    }

    func restart(_ id: UInt64) async throws {
        precondition(nodes[id] == nil, "node \(id) is running")
        nodes[id] = try await launch(id)
    }

    func client(_ id: UInt64, configure: (inout PeriscopeClient.Configuration) -> Void = { _ in }) async throws -> PeriscopeClient {
        var configuration = PeriscopeClient.Configuration()
        configure(&configuration)
        return try await PeriscopeClient.connect(to: address(of: id), configuration: configuration)
    }

    /// Waits until node `id` sees a leader for every shard, and the default namespace exists.
    func awaitReady(via id: UInt64, timeout: Duration = .seconds(60)) async throws {
        let client = try await client(id)
        defer { Task { await client.close() } }
        let ready = await waitUntil(timeout: timeout) {
            guard let status = try? await client.clusterStatus(), status.unavailableShards.isEmpty else { return false }
            return (try? await client.describeNamespace("default")) != nil
        }
        guard ready else { throw NodeProcessError("node \(id) did not see a ready region within \(timeout)") }
    }

    /// Compares every shard's replica digests across the running nodes once they have
    /// applied the same index: nil when they agree, else what differs.
    func replicasAgree(timeout: Duration = .seconds(60)) async throws -> String? {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            var byShard: [UInt32: [(UInt64, Periscope_V1_ReplicaDigest)]] = [:]
            for id in nodes.keys.sorted() {
                let client = try await client(id)
                for replica in try await client.replicaDigests().replicas { byShard[replica.shardID, default: []].append((id, replica)) }
                await client.close()
            }
            let atOneIndex = byShard.values.allSatisfy { Set($0.map(\.1.appliedIndex)).count == 1 }
            last = byShard.keys.sorted().map { shard in
                "shard \(shard): " + byShard[shard]!.map { "n\($0.0)@\($0.1.appliedIndex)=\($0.1.sha256.prefix(12))/\($0.1.entries)" }
                    .joined(separator: " ")
            }.joined(separator: "; ")
            if atOneIndex {
                let differing = byShard.filter { Set($0.value.map(\.1.sha256)).count > 1 }
                return differing.isEmpty ? nil : "replicas differ at one applied index: \(last)"
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        return "replicas never reached one applied index: \(last)"
    }

    /// Kills every node (SIGKILL, waited for) and removes the region's directory: for a
    /// test's `defer`, which cannot await (a `Task` there may never run before the test
    /// process exits, leaving the nodes running).
    func killAll() {
        for (_, node) in nodes { node.killMinusNine() }
        nodes = [:]
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A TCP port nothing listens on at `host` right now.
    static func freePort(host: String) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NodeProcessError("socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        inet_pton(AF_INET, host, &address.sin_addr)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw NodeProcessError("bind \(host): errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
