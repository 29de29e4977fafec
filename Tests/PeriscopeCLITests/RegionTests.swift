import Foundation
import PeriscopeAPI
import PeriscopeClient
import PeriscopeRPC
import PeriscopeTestSupport
import Synchronization
import Testing

/// Regions of three real node processes on their own loopback addresses: writes through any
/// node, reads through any other, a leader killed mid-load, a restarted node catching up,
/// replicas converging, and a node cut off from the others refusing strong reads.
@Suite(.serialized) struct RegionTests {
    static func execution(_ id: String, type: String, second: Int64) -> Execution {
        .with {
            $0.workflowID = id; $0.runID = "r"; $0.workflowType = type; $0.taskQueue = "q"; $0.status = .running
            $0.startTime = .with { $0.seconds = 1_790_000_000 + second }
        }
    }

    static func listed(_ client: PeriscopeClient, query: String) async throws -> Set<String> {
        var ids = Set<String>()
        for try await execution in client.executions(namespace: "default", query: query, pageSize: 1_000, consistency: .strong) {
            ids.insert(execution.workflowID)
        }
        return ids
    }

    @Test func leaderKilledMidLoadLosesNothingAndReplicasConverge() async throws {
        let region = try await RegionProcesses.start(count: 3, subnet: 61)
        defer { region.killAll() }
        try await region.awaitReady(via: 1)

        // Written through node 2, read through node 3.
        let two = try await region.client(2)
        _ = try await two.recordStarted(namespace: "default", Self.execution("hello", type: "greeting", second: 1))
        let three = try await region.client(3)
        #expect(try await three.count(namespace: "default", query: "WorkflowType = 'greeting'", consistency: .strong).count == 1)
        #expect(try await three.execution(namespace: "default", workflowID: "hello", runID: "r", consistency: .strong) != nil)
        await two.close()
        await three.close()

        // The load goes through node 1; the victim leads a shard and is not node 1.
        let seed = try await region.client(1)
        let map = try await seed.shardMap()
        let victim: UInt64
        if let led = map.shards.first(where: { $0.leaderNodeID != "1" }) {
            victim = UInt64(led.leaderNodeID)!
        } else {
            _ = try await seed.transferLeadership(shard: 0, to: "2")
            victim = 2
        }
        let survivor: UInt64 = victim == 2 ? 3 : 2
        let counter = AckCounter()
        async let acknowledged = NodeCrashTests.load(seed, writers: 16, prefix: "load", type: "load", acknowledgedSoFar: counter,
                                                     throughFailures: true, stop: { counter.stopped.load(ordering: .relaxed) })
        #expect(await waitUntil(counter.value.load(ordering: .relaxed) >= 300, timeout: .seconds(120)))
        let beforeKill = counter.value.load(ordering: .relaxed)
        let killedAt = ContinuousClock.now
        region.kill(victim)
        // Every shard has a leader again on the surviving side, within a bounded time.
        let recovered = await waitUntil(timeout: .seconds(20), interval: .milliseconds(20)) {
            guard let map = try? await seed.shardMap() else { return false }
            return map.shards.allSatisfy { !$0.leaderNodeID.isEmpty && $0.leaderNodeID != String(victim) }
        }
        let failover = ContinuousClock.now - killedAt
        #expect(recovered, "every shard had a leader other than the killed node within 20 s")
        print("failover after kill -9 of node \(victim): every shard led again after \(failover)")
        #expect(await waitUntil(counter.value.load(ordering: .relaxed) >= beforeKill + 300, timeout: .seconds(120)),
                "writes continue after the leader died")
        counter.stopped.store(true, ordering: .relaxed)
        let ids = await acknowledged
        await seed.close()

        let reader = try await region.client(survivor)
        let listed = try await Self.listed(reader, query: "WorkflowType = 'load'")
        let missing = ids.filter { !listed.contains($0) }
        #expect(missing.isEmpty, "\(missing.count) of \(ids.count) acknowledged writes are missing, e.g. \(missing.prefix(3))")
        await reader.close()

        // The killed node comes back, catches up on what it missed, and every shard's three
        // replicas hold the same data.
        try await region.restart(victim)
        let disagreement = try await region.replicasAgree()
        #expect(disagreement == nil, "\(disagreement ?? "")")
        let restarted = try await region.client(victim)
        #expect(try await Self.listed(restarted, query: "WorkflowType = 'load'").isSuperset(of: ids))
        await restarted.close()
    }

    /// A node down while every shard's log is compacted past its own: its shard replicas
    /// cannot catch up from the log, so the leaders stream snapshots (SST files) to it.
    @Test func aNodeBehindTheCompactedLogCatchesUpBySnapshot() async throws {
        let region = try await RegionProcesses.start(count: 3, subnet: 64, extra: ["--compact-log-after", "100"])
        defer { region.killAll() }
        try await region.awaitReady(via: 1)
        region.kill(3)

        let one = try await region.client(1)
        let counter = AckCounter()
        async let acknowledged = NodeCrashTests.load(one, writers: 8, prefix: "missed", type: "missed", acknowledgedSoFar: counter,
                                                     throughFailures: true, stop: { counter.stopped.load(ordering: .relaxed) })
        // About 200 entries per shard: every shard's log is compacted past node 3's.
        #expect(await waitUntil(counter.value.load(ordering: .relaxed) >= 800, timeout: .seconds(120)))
        counter.stopped.store(true, ordering: .relaxed)
        let ids = await acknowledged
        await one.close()

        try await region.restart(3)
        let disagreement = try await region.replicasAgree()
        #expect(disagreement == nil, "\(disagreement ?? "")")
        let metrics = try await runTool("/usr/bin/curl", ["-s", "--http2-prior-knowledge", "http://\(region.address(of: 3))/metrics"])
        let installed = metrics.stdout.split(separator: "\n").first { $0.hasPrefix("periscope_raft_snapshots_installed ") }
        let count = installed.flatMap { Double($0.split(separator: " ").last!) } ?? 0
        #expect(count >= 4, "node 3 installed \(count) snapshots; each of the 4 shards needed one (\(installed ?? "no metric"))")
        let three = try await region.client(3)
        let listed = try await Self.listed(three, query: "WorkflowType = 'missed'")
        #expect(listed.isSuperset(of: ids), "\(ids.count - listed.intersection(ids).count) acknowledged writes missing on node 3")
        await three.close()
    }

    /// Membership under load: a fourth node is added (a learner of every group, filled by
    /// snapshots, then a voter), then node 2 is removed, with 8 writers going all along
    /// through the CLI's own commands; nothing acknowledged is lost and the three remaining
    /// members agree.
    @Test func aNodeAddedAndAnotherRemovedUnderLoadLoseNothing() async throws {
        let region = try await RegionProcesses.start(count: 3, subnet: 65)
        defer { region.killAll() }
        try await region.awaitReady(via: 1)
        let one = try await region.client(1)
        let counter = AckCounter()
        async let acknowledged = NodeCrashTests.load(one, writers: 8, prefix: "moving", type: "moving", acknowledgedSoFar: counter,
                                                     throughFailures: true, stop: { counter.stopped.load(ordering: .relaxed) })
        func acknowledgedMore(than count: Int) async -> Bool {
            await waitUntil(counter.value.load(ordering: .relaxed) >= count + 200, timeout: .seconds(120))
        }
        #expect(await acknowledgedMore(than: 0))

        // The new node starts outside the region; add-node makes it a member and waits.
        async let started: Void = region.launchJoining(4)
        let add = try await runTool(CLITests.binary, ["cluster", "add-node", "--address", region.address(of: 1), "--node-id", "4",
                                                      "--node-address", region.address(of: 4), "--wait", "120"], timeout: .seconds(150))
        try await started
        #expect(add.status == 0 && add.stdout.contains("node 4 is an active member"), "\(add.stdout)\(add.stderr)")
        #expect(await acknowledgedMore(than: counter.value.load(ordering: .relaxed)), "writes continue after the add")

        let remove = try await runTool(CLITests.binary, ["cluster", "remove-node", "--address", region.address(of: 1), "--node-id", "2",
                                                         "--wait", "120"], timeout: .seconds(150))
        #expect(remove.status == 0 && remove.stdout.contains("node 2 has left the region"), "\(remove.stdout)\(remove.stderr)")
        #expect(await acknowledgedMore(than: counter.value.load(ordering: .relaxed)), "writes continue after the removal")
        counter.stopped.store(true, ordering: .relaxed)
        let ids = await acknowledged
        await one.close()
        region.kill(2)

        let four = try await region.client(4)
        let status = try await four.clusterStatus()
        #expect(status.nodes.map(\.nodeID) == ["1", "3", "4"] && status.nodes.allSatisfy { $0.state == .active }, "\(status)")
        for shard in try await four.shardMap().shards {
            #expect(Set(shard.replicas.map(\.nodeID)) == ["1", "3", "4"] && shard.replicas.allSatisfy { $0.role == .voter },
                    "shard \(shard.shardID): \(shard.replicas)")
        }
        let listed = try await Self.listed(four, query: "WorkflowType = 'moving'")
        let missing = ids.filter { !listed.contains($0) }
        #expect(missing.isEmpty, "\(missing.count) of \(ids.count) acknowledged writes are missing through node 4, e.g. \(missing.prefix(3))")
        await four.close()
        // The joined node restarts from its own data (groups it created empty, filled since).
        region.kill(4)
        try await region.restart(4)
        let disagreement = try await region.replicasAgree()
        #expect(disagreement == nil, "\(disagreement ?? "")")

        // Refusals: a member again, a change while none is possible, an unknown node.
        let again = try await runTool(CLITests.binary, ["cluster", "add-node", "--address", region.address(of: 1), "--node-id", "3",
                                                        "--node-address", "127.0.65.9:1"])
        #expect(again.status == 4 && again.stderr.contains("node 3 is already a member"), "\(again.stderr)")
        let unknown = try await runTool(CLITests.binary, ["cluster", "remove-node", "--address", region.address(of: 1), "--node-id", "9"])
        #expect(unknown.status == 3 && unknown.stderr.contains("node 9 is not a member"), "\(unknown.stderr)")
    }

    /// An idle region goes quiet (no Raft messages at all once every group has been idle 3 s)
    /// and still replaces a leader killed while quiet: its followers' links to it fail,
    /// which wakes their groups.
    @Test func idleGroupsGoQuietAndStillFailOver() async throws {
        let region = try await RegionProcesses.start(count: 3, subnet: 66, extra: ["--no-balance-leaders"])
        defer { region.killAll() }
        try await region.awaitReady(via: 1)
        let one = try await region.client(1)
        _ = try await one.recordStarted(namespace: "default", Self.execution("before", type: "quiet", second: 1))
        func metric(_ name: String, node: UInt64) async throws -> Double {
            let text = try await runTool("/usr/bin/curl", ["-s", "--http2-prior-knowledge", "http://\(region.address(of: node))/metrics"]).stdout
            let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            return line.flatMap { Double($0.split(separator: " ").last!) } ?? -1
        }
        // 6 groups: the region map, the catalog and 4 shards.
        let quiet = await waitUntil(timeout: .seconds(30), interval: .milliseconds(250)) {
            var all = true
            for node in UInt64(1)...3 where (try? await metric("periscope_raft_groups_quiesced", node: node)) != 6 { all = false }
            return all
        }
        #expect(quiet, "every group of every node went quiet")
        let before = try await metric("periscope_raft_messages_received", node: 1)
        try await Task.sleep(for: .seconds(2))
        let after = try await metric("periscope_raft_messages_received", node: 1)
        #expect(after == before, "a quiet region exchanges no Raft messages (node 1 received \(after - before) in 2 s)")

        // The leader of shard 0, killed while everything is quiet, is replaced.
        let map = try await one.shardMap()
        let victim = UInt64(map.shards[0].leaderNodeID)!
        let survivor: UInt64 = victim == 1 ? 2 : 1
        let reader = try await region.client(survivor)
        region.kill(victim)
        let started = ContinuousClock.now
        let replaced = await waitUntil(timeout: .seconds(20), interval: .milliseconds(50)) {
            guard let map = try? await reader.shardMap() else { return false }
            return map.shards.allSatisfy { !$0.leaderNodeID.isEmpty && $0.leaderNodeID != String(victim) }
        }
        #expect(replaced, "every shard led again after the quiet leader died")
        print("a leader killed while its groups were quiet was replaced after \(ContinuousClock.now - started)")
        _ = try await reader.recordStarted(namespace: "default", Self.execution("after", type: "quiet", second: 2))
        #expect(try await reader.count(namespace: "default", query: "WorkflowType = 'quiet'", consistency: .strong).count == 2)
        await one.close()
        await reader.close()
    }

    @Test func leadershipsSpreadOverTheMembers() async throws {
        let region = try await RegionProcesses.start(count: 3, subnet: 63)
        defer { region.killAll() }
        try await region.awaitReady(via: 1)
        let client = try await region.client(1)
        // Every shard led by node 1: the balancers must hand leaderships to nodes 2 and 3.
        for shard in UInt32(0)..<4 { _ = try await client.transferLeadership(shard: shard, to: "1") }
        var counts: [String: Int] = [:]
        let balanced = await waitUntil(timeout: .seconds(40), interval: .milliseconds(250)) {
            guard let map = try? await client.shardMap(), map.shards.allSatisfy({ !$0.leaderNodeID.isEmpty }) else { return false }
            counts = Dictionary(grouping: map.shards, by: \.leaderNodeID).mapValues(\.count)
            let perNode = ["1", "2", "3"].map { counts[$0] ?? 0 }
            return perNode.max()! - perNode.min()! <= 1
        }
        #expect(balanced, "leaderships per node: \(counts)")
        await client.close()
    }

    @Test func aCutOffNodeServesNoStaleStrongReads() async throws {
        // Balancing off: the leaders stay where the test puts them.
        let region = try await RegionProcesses.start(count: 3, subnet: 62, extra: ["--allow-fault-injection", "--no-balance-leaders"])
        defer { region.killAll() }
        try await region.awaitReady(via: 1)
        let one = try await region.client(1) { $0.routesWritesToLeaders = false }
        // Each refusal is seen as it is, not retried into the deadline.
        let three = try await region.client(3) { $0.retry = .none }
        // Node 3 leads every shard: once cut off it is a stale leader, the worst case.
        for shard in UInt32(0)..<4 { _ = try await one.transferLeadership(shard: shard, to: "3") }
        _ = try await one.recordStarted(namespace: "default", Self.execution("before", type: "cut", second: 1))
        #expect(try await three.count(namespace: "default", query: "WorkflowType = 'cut'", consistency: .strong).count == 1)

        let peer = try RPCEndpoint(region.address(of: 3))
        let isolate = { (from: [UInt64]) async throws in
            let rpc = try await RPCClient.connect(host: peer.host, port: peer.port)
            _ = try await rpc.unary(ClusterPeerMethods.injectPartition, .with { $0.isolatedFrom = from })
            await rpc.close()
        }
        try await isolate([1, 2])
        // The majority elects new leaders and takes a write node 3 cannot see.
        _ = try await one.recordStarted(namespace: "default", Self.execution("after", type: "cut", second: 2))
        #expect(try await one.count(namespace: "default", query: "WorkflowType = 'cut'", consistency: .strong).count == 2)

        // Node 3 cannot confirm any leader with a quorum: strong reads fail, whatever it holds.
        for attempt in 0..<2 {
            let started = ContinuousClock.now
            defer { print("strong read through the cut-off node refused after \(ContinuousClock.now - started)") }
            do {
                let stale = try await three.count(namespace: "default", query: "WorkflowType = 'cut'", consistency: .strong)
                Issue.record("attempt \(attempt): a cut-off node answered a strong read: \(stale.count) executions")
            } catch {
                #expect(error.code == .unavailable, "\(error)")
            }
        }
        do {
            _ = try await three.execution(namespace: "default", workflowID: "after", runID: "r", consistency: .strong)
            Issue.record("a cut-off node answered a strong get")
        } catch {
            #expect(error.code == .unavailable, "\(error)")
        }
        // An eventual read is served from its own replica, stale by design.
        #expect(try await three.count(namespace: "default", query: "WorkflowType = 'cut'").count == 1)

        // Healed, it catches up and answers strong reads again.
        try await isolate([])
        #expect(await waitUntil(timeout: .seconds(30)) {
            (try? await three.count(namespace: "default", query: "WorkflowType = 'cut'", consistency: .strong).count) == 2
        })
        await one.close()
        await three.close()
    }
}
