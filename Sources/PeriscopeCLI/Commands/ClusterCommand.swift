import ArgumentParser
import Foundation
import PeriscopeAPI
import PeriscopeClient

/// `periscope cluster`: create a region of several nodes and look after it.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Create a replicated region and manage its members and leaders.",
        subcommands: [ClusterInitCommand.self, ClusterStatusCommand.self, ClusterVerifyCommand.self, ClusterTransferLeaderCommand.self,
                      ClusterAddNodeCommand.self, ClusterRemoveNodeCommand.self]
    )
}

struct ClusterInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Make nodes started with `node start --wait-for-init` one region.",
        discussion: """
            Every shard, and the namespace catalog, becomes a Raft group with a replica on each member \
            (3 or 5 members survive the loss of 1 or 2). Members are given as --member ID=HOST:PORT or \
            read from a topology file (cluster/region3.json). Members not listening yet are retried for \
            --wait seconds. A member that already belongs to a region refuses (exit status 4).
            """
    )

    @Option(name: .customLong("member"), help: "A member, ID=HOST:PORT (repeat for each).") var members: [String] = []
    @Option(help: "A topology file: {\"region\": ..., \"shards\": N, \"nodes\": [{\"id\": 1, \"host\": ..., \"port\": ...}]}, or a deployment's: {\"shards\": N, \"regions\": [{\"region\": \"A\", \"nodes\": [...]}, ...]}.")
    var topology: String?
    @Option(help: "The region's name.") var region: String?
    @Option(help: "Shards of the region (fixed for its life).") var shards: Int?
    @Option(help: "Seconds to keep retrying members that are not listening yet.") var wait: Double = 30

    func run() async throws {
        var plan = RegionPlan(region: region ?? "local", shardCount: shards ?? 4, members: [])
        if let topology {
            let file: TopologyFile
            do { file = try TopologyFile.load(topology) } catch { throw ValidationError(error.description) }
            if let regions = file.regions {
                guard members.isEmpty, region == nil else { throw ValidationError("a deployment's topology names its regions and members itself") }
                try await initializeDeployment(DeploymentPlan(shardCount: shards ?? file.shards ?? 4, regions: regions.map {
                    RegionPlan(region: $0.region, shardCount: 0, members: TopologyFile.members($0.nodes))
                }))
                return
            }
            plan.region = region ?? file.region ?? plan.region
            plan.shardCount = shards ?? file.shards ?? plan.shardCount
            plan.members = TopologyFile.members(file.nodes ?? [])
        }
        for member in members {
            let parts = member.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let id = UInt64(parts[0]), id != 0 else {
                throw ValidationError("--member '\(member)' is not ID=HOST:PORT with a nonzero numeric id")
            }
            plan.members.append(RegionPlan.Member(nodeID: id, address: String(parts[1])))
        }
        guard !plan.members.isEmpty else { throw ValidationError("name the members with --member ID=HOST:PORT or --topology FILE") }
        try await reportingFailures {
            do {
                let (clusterID, created) = try await PeriscopeClient.initializeRegion(plan, wait: .milliseconds(Int64(wait * 1_000)))
                print("region \(plan.region) (cluster \(clusterID)): \(plan.members.count) members, \(plan.shardCount) shards; "
                    + "initialized nodes \(created.map(String.init).joined(separator: ", "))")
            } catch let error as PeriscopeError {
                throw ClientExit(error)
            }
        }
    }
}

extension ClusterInitCommand {
    private func initializeDeployment(_ plan: DeploymentPlan) async throws {
        try await reportingFailures {
            do {
                let id = try await PeriscopeClient.initializeDeployment(plan, wait: .milliseconds(Int64(wait * 1_000)))
                print("deployment \(id): \(plan.regions.count) regions (\(plan.regions.map { "\($0.region): \($0.members.count) nodes" }.joined(separator: ", "))), "
                    + "\(plan.shardCount) shards each; namespaces are created in region \(plan.regions[0].region)")
            } catch let error as PeriscopeError {
                throw ClientExit(error)
            }
        }
    }
}

struct ClusterStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "The region's members, and each shard's replicas and leader, as one node sees them.")

    @OptionGroup var client: ClientOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await reportingFailures {
            try await client.withClient { client in
                let status = try await client.clusterStatus()
                let map = try await client.shardMap()
                if json {
                    try printJSON(status)
                    try printJSON(map)
                    return
                }
                print("region \(status.region): \(status.nodes.count) nodes, \(status.shardCount) shards, "
                    + "replication factor \(status.replicationFactor)"
                    + (status.unavailableShards.isEmpty ? "" : "; shards without a leader: \(status.unavailableShards.map(String.init).joined(separator: ", "))"))
                print(Table(header: ["node", "address", "state", "leads", "replicas"], rows: status.nodes.map {
                    [$0.nodeID, $0.address, "\($0.state)", "\($0.leaderCount)", "\($0.replicaCount)"]
                }).rendered)
                print()
                print(Table(header: ["shard", "leader", "term", "commit", "replicas (node:matched)"], rows: map.shards.map { shard in
                    ["\(shard.shardID)", shard.leaderNodeID.isEmpty ? "-" : shard.leaderNodeID, "\(shard.term)", "\(shard.commitIndex)",
                     shard.replicas.map { "\($0.nodeID)\($0.role == .learner ? "(learner)" : ""):\($0.appliedIndex)" }.joined(separator: " ")]
                }).rendered)
                printReplication(status)
            }
        }
    }
}

/// The deployment's other regions and replication from each into the region asked.
func printReplication(_ status: Periscope_V1_ClusterStatus) {
    guard status.regions.count > 1 else { return }
    print()
    print("deployment \(status.deploymentID): regions " + status.regions.map { "\($0.name)\($0.local ? " (this one)" : "")" }
        .joined(separator: ", "))
    for region in status.regions where !region.local {
        print()
        print("replication from region \(region.name) (\(region.addresses.joined(separator: ", "))):")
        print(Table(header: ["shard", "received through", "source applied", "lag", "state"], rows: region.inbound.map { shard in
            ["\(shard.shardID)", "\(shard.cursor)", shard.sourceApplied == 0 ? "-" : "\(shard.sourceApplied)",
             String(format: "%.3f s", shard.lagSeconds), shard.state]
        }).rendered)
    }
    if !status.namespaceLags.isEmpty {
        print()
        print(Table(header: ["namespace", "home", "lag"], rows: status.namespaceLags.map {
            [$0.namespace, $0.sourceRegion, String(format: "%.3f s", $0.lagSeconds)]
        }).rendered)
    }
}

struct ClusterTransferLeaderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer-leader", abstract: "Hand a shard's leadership to another member and wait until it leads.")

    @OptionGroup var client: ClientOptions
    @Option(help: "The shard.") var shard: UInt32
    @Option(help: "The node to lead it.") var to: String

    func run() async throws {
        try await reportingFailures {
            try await client.withClient { client in
                let answer = try await client.transferLeadership(shard: shard, to: to)
                print("shard \(shard): node \(answer.leaderNodeID) leads (term \(answer.term))")
            }
        }
    }
}

struct ClusterAddNodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-node",
        abstract: "Add a node to the region and wait until it is an active member.",
        discussion: """
            Start the new node first with `periscope node start --wait-for-init --node-id ID --host H --port P`. \
            The region records it as joining; the member leading the region map then sends it the region, \
            makes it a learner of every group (each group's leader streams it a snapshot), promotes it to \
            voter once caught up and marks it active. Progress is printed until then. Exit status 0: active; \
            2: refused (another change under way, the region is full); 4: the id or address is taken; \
            69: not active within --wait seconds (the change goes on: `cluster status` shows it).
            """
    )

    @OptionGroup var client: ClientOptions
    @Option(help: "The new node's id.") var nodeId: String
    @Option(name: .customLong("node-address"), help: "The new node's HOST:PORT.") var nodeAddress: String
    @Option(help: "Seconds to wait for the node to become active (0: do not wait).") var wait: Double = 600

    func run() async throws {
        try await reportingFailures {
            try await client.withClient { client in
                let map = try await client.addNode(id: nodeId, address: nodeAddress)
                print("node \(nodeId) is joining (region map version \(map.version))")
                try await awaitMembership(client, wait: wait) { status, map in
                    guard let node = status.nodes.first(where: { $0.nodeID == nodeId }) else { return (false, "not in the region map") }
                    let roles = map.shards.map { shard in shard.replicas.first { $0.nodeID == nodeId } }
                    let voters = roles.filter { $0?.role == .voter }.count
                    let learners = roles.filter { $0?.role == .learner }.count
                    return (node.state == .active, "\(node.state): voter of \(voters), learner of \(learners) of \(map.shards.count) shards")
                }
                print("node \(nodeId) is an active member")
            }
        }
    }
}

struct ClusterRemoveNodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove-node",
        abstract: "Remove a node from the region and wait until it has left.",
        discussion: """
            The region records it as leaving; the member leading the region map removes its replica from \
            every group (a leader removing itself hands leadership over first; every other member holds each \
            group's data already), then removes it from the map. A dead node is removed the same way: to \
            replace one, add the new node, then remove the dead one. Stop the removed node's process \
            afterwards. Exit status 0: removed; 2: refused (another change under way, the last member); \
            3: no such member; 69: not removed within --wait seconds.
            """
    )

    @OptionGroup var client: ClientOptions
    @Option(help: "The node's id.") var nodeId: String
    @Option(help: "Seconds to wait for the node to leave (0: do not wait).") var wait: Double = 600

    func run() async throws {
        try await reportingFailures {
            try await client.withClient { client in
                let map = try await client.removeNode(id: nodeId)
                print("node \(nodeId) is leaving (region map version \(map.version))")
                try await awaitMembership(client, wait: wait) { status, map in
                    guard status.nodes.contains(where: { $0.nodeID == nodeId }) else { return (true, "left") }
                    let replicas = map.shards.filter { $0.replicas.contains { $0.nodeID == nodeId } }.count
                    return (false, "leaving: still a replica of \(replicas) of \(map.shards.count) shards")
                }
                print("node \(nodeId) has left the region; its process can be stopped")
            }
        }
    }
}

/// Polls the region until `done` says the change finished, printing each new progress line;
/// exit status 69 after `wait` seconds.
private func awaitMembership(_ client: PeriscopeClient, wait: Double,
                             _ done: (Periscope_V1_ClusterStatus, Periscope_V1_ShardMap) -> (Bool, String)) async throws {
    guard wait > 0 else { return }
    let deadline = ContinuousClock.now + .milliseconds(Int64(wait * 1_000))
    var last = ""
    while true {
        // A member may be briefly unable to answer while leaderships move: ask again.
        if let status = try? await client.clusterStatus(), let map = try? await client.shardMap() {
            let (finished, progress) = done(status, map)
            if progress != last {
                print("  \(progress)")
                last = progress
            }
            if finished { return }
        }
        guard ContinuousClock.now < deadline else {
            FileHandle.standardError.write(Data("error: the change did not finish within \(wait) s (it goes on; see `periscope cluster status`)\n".utf8))
            throw ExitCode(69)
        }
        try await Task.sleep(for: .milliseconds(250))
    }
}

struct ClusterVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that every shard's replicas hold the same data (a digest per replica, compared across members).",
        discussion: """
            Replicas are compared once they have applied the same index; while writes are in flight \
            the check is retried for --wait seconds. Exit status 0: every shard's replicas agree; \
            1: some differ at the same applied index (named); 69: a member cannot be reached or \
            its replicas never reached the same index.
            """
    )

    @OptionGroup var client: ClientOptions
    @Option(help: "Seconds to wait for replicas to reach the same applied index.") var wait: Double = 30

    func run() async throws {
        try await reportingFailures {
            let members = try await client.withClient { try await $0.clusterStatus().nodes }
            let deadline = ContinuousClock.now + .milliseconds(Int64(wait * 1_000))
            while true {
                var digests: [String: Periscope_V1_ReplicaDigests] = [:]
                for member in members {
                    var options = client
                    options.address = member.address
                    digests[member.nodeID] = try await options.withClient { try await $0.replicaDigests() }
                }
                let verdict = ReplicaComparison(digests.values.flatMap { node in node.replicas.map { (node.nodeID, $0) } })
                if !verdict.differing.isEmpty {
                    for (shard, replicas) in verdict.differing {
                        print("shard \(shard): replicas DIFFER at applied index \(replicas[0].1.appliedIndex): "
                            + replicas.map { "node \($0.0) \($0.1.entries) entries \($0.1.sha256.prefix(16))" }.joined(separator: "; "))
                    }
                    throw ExitCode(1)
                }
                if verdict.behind.isEmpty {
                    print(Table(header: ["shard", "applied", "entries", "sha256", "replicas"], rows: verdict.agreeing.map { shard, digest, count in
                        ["\(shard)", "\(digest.appliedIndex)", "\(digest.entries)", String(digest.sha256.prefix(16)), "\(count)"]
                    }).rendered)
                    print("every shard's \(members.count) replicas agree")
                    return
                }
                guard ContinuousClock.now < deadline else {
                    FileHandle.standardError.write(Data(("error: shards \(verdict.behind.map(String.init).joined(separator: ", ")) did not "
                        + "reach one applied index on every replica within \(wait) s\n").utf8))
                    throw ExitCode(69)
                }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }
}

/// Replica digests grouped by shard: agreeing, differing at one applied index, or not
/// comparable yet (replicas at different indexes).
struct ReplicaComparison {
    var agreeing: [(UInt32, Periscope_V1_ReplicaDigest, Int)] = []
    var differing: [(UInt32, [(String, Periscope_V1_ReplicaDigest)])] = []
    var behind: [UInt32] = []

    init(_ replicas: [(String, Periscope_V1_ReplicaDigest)]) {
        let byShard = Dictionary(grouping: replicas, by: { $0.1.shardID })
        for shard in byShard.keys.sorted() {
            let replicas = byShard[shard]!.sorted { $0.0 < $1.0 }
            if Set(replicas.map(\.1.appliedIndex)).count > 1 {
                behind.append(shard)
            } else if Set(replicas.map(\.1.sha256)).count > 1 {
                differing.append((shard, replicas))
            } else {
                agreeing.append((shard, replicas[0].1, replicas.count))
            }
        }
    }
}
