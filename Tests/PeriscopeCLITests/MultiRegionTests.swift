import Foundation
import PeriscopeAPI
import PeriscopeClient
import PeriscopeRPC
import PeriscopeTestSupport
import Synchronization
import Testing

extension Execution {
    /// The execution closed with `status` at `closeSecond`, as version `version`.
    func with(status: Periscope_V1_ExecutionStatus, closeSecond: Int64, version: Int64) -> Execution {
        var closed = self
        closed.status = status
        closed.closeTime = .with { $0.seconds = startTime.seconds + closeSecond }
        closed.version = version
        return closed
    }
}

/// Deployments of three regions of one real node process each, on their own loopback
/// addresses: replication between regions through cuts, restarts and trimmed outboxes,
/// planned and forced failover under writes, federated paging, and what is refused.
@Suite(.serialized) struct MultiRegionTests {
    static func execution(_ id: String, type: String = "order", second: Int64 = 0) -> Execution {
        .with {
            $0.workflowID = id; $0.runID = "r"; $0.workflowType = type; $0.taskQueue = "q"; $0.status = .running
            $0.startTime = .with { $0.seconds = 1_790_000_000 + second }
        }
    }

    /// Writes `count` executions `prefix-0 ...` through `client`, 8 at a time.
    static func write(_ count: Int, prefix: String, namespace: String, via client: PeriscopeClient, type: String = "order") async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    for number in stride(from: writer, to: count, by: 8) {
                        _ = try await client.recordStarted(namespace: namespace, execution("\(prefix)-\(number)", type: type, second: Int64(number)))
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    static func createOrders(_ deployment: DeploymentProcesses, askedOf region: String = "B") async throws {
        let client = try await deployment.client(region)
        defer { Task { await client.close() } }
        let created = try await client.createNamespace("orders", homeRegion: "A", regions: deployment.names)
        #expect(created.homeRegion == "A")
        // Every region has it within the namespace sync.
        for name in deployment.names {
            let there = try await deployment.client(name)
            #expect(await waitUntil(timeout: .seconds(20)) { (try? await there.describeNamespace("orders")) != nil }, "region \(name)")
            await there.close()
        }
    }

    @Test func replicaRegionsCatchUpAfterCutsRestartsAndTrimmedOutboxes() async throws {
        // A keeps at most 40 log positions per shard in its outbox for other regions.
        let deployment = try await DeploymentProcesses.start(firstSubnet: 71, extraByRegion: ["A": ["--outbox-retained-entries", "40"]])
        defer { deployment.killAll() }
        try await Self.createOrders(deployment)
        let home = try await deployment.client("A")
        try await Self.write(200, prefix: "first", namespace: "orders", via: home)
        #expect(await deployment.converged("orders") == nil)
        #expect(try await deployment.workflowIDs("orders", in: "C").count == 200)

        // C cut off from both other regions while writes go on, and its node restarted meanwhile.
        try await deployment.cutOff("C")
        try await Self.write(100, prefix: "cut", namespace: "orders", via: home)
        #expect(await deployment.converged("orders", regions: ["A", "B"]) == nil)
        #expect(try await deployment.workflowIDs("orders", in: "C").count == 200, "a cut-off region received writes")
        deployment.regions["C"]!.kill(1)
        try await Self.write(200, prefix: "restarted", namespace: "orders", via: home)
        try await deployment.regions["C"]!.restart(1)
        try await deployment.regions["C"]!.awaitReady(via: 1)
        try await deployment.cutOff("C")  // the restarted node forgot the injection: cut it again

        // 300 writes over 4 shards went past what A's outbox keeps: C catches up by backfill.
        try await deployment.cutOff("C", cut: false)
        #expect(await deployment.converged("orders") == nil)
        let ids = try await deployment.workflowIDs("orders", in: "C")
        #expect(ids.count == 500 && Set(ids).count == 500, "C holds \(ids.count) executions")
        #expect(try await deployment.metric("periscope_replication_backfills", in: "C") >= 1)
        // Idle and caught up, no stream reports a lag (summed over every source and shard).
        try await Task.sleep(for: .seconds(3))
        #expect(try await deployment.metric("periscope_replication_lag_seconds", in: "C") < 1)

        // The cluster status shows each shard's stream from A into C.
        let viewer = try await deployment.client("C")
        var status = Periscope_V1_ClusterStatus()
        let streaming = await waitUntil(timeout: .seconds(10)) {
            status = (try? await viewer.clusterStatus()) ?? status
            return status.regions.first { $0.name == "A" }.map { $0.inbound.count == 4 && $0.inbound.allSatisfy { $0.state == "streaming" } } ?? false
        }
        #expect(streaming, "\(status.regions)")
        #expect(status.namespaceLags.contains { $0.namespace == "orders" && $0.sourceRegion == "A" })
        await viewer.close()
        await home.close()
    }

    @Test func plannedAndForcedFailoverUnderWritesLoseNothingAndConverge() async throws {
        let deployment = try await DeploymentProcesses.start(firstSubnet: 74)
        defer { deployment.killAll() }
        try await Self.createOrders(deployment)
        // The writers' client is connected to C, which is never the home: it follows the home.
        let writers = try await deployment.client("C")
        let admin = try await deployment.client("A")
        let counter = AckCounter()
        async let planned = NodeCrashTests.load(writers, writers: 8, prefix: "planned", type: "order", namespace: "orders",
                                                acknowledgedSoFar: counter, throughFailures: true,
                                                stop: { counter.stopped.load(ordering: .relaxed) })
        #expect(await waitUntil(counter.value.load(ordering: .relaxed) >= 150, timeout: .seconds(120)))
        let placement = try await admin.failover(namespace: "orders", to: "B")
        #expect(placement.placement.handingOverTo == "B" || placement.placement.homeRegion == "B")
        #expect(await waitUntil(timeout: .seconds(30)) { (try? await admin.namespacePlacement("orders").homeRegion) == "B" })
        let atFailover = counter.value.load(ordering: .relaxed)
        #expect(await waitUntil(counter.value.load(ordering: .relaxed) >= atFailover + 150, timeout: .seconds(120)),
                "writes continue in the new home")
        counter.stopped.store(true, ordering: .relaxed)
        let acknowledged = await planned
        #expect(await deployment.converged("orders") == nil)
        for region in deployment.names {
            let held = Set(try await deployment.workflowIDs("orders", in: region))
            let lost = acknowledged.filter { !held.contains($0) }
            #expect(lost.isEmpty, "region \(region) lacks \(lost.count) acknowledged writes, e.g. \(lost.prefix(3))")
        }

        // Forced: the home (B) is killed under writes; C takes over at once.
        let forcedCounter = AckCounter()
        async let forced = NodeCrashTests.load(writers, writers: 8, prefix: "forced", type: "order", namespace: "orders",
                                               acknowledgedSoFar: forcedCounter, throughFailures: true,
                                               stop: { forcedCounter.stopped.load(ordering: .relaxed) })
        #expect(await waitUntil(forcedCounter.value.load(ordering: .relaxed) >= 100, timeout: .seconds(120)))
        deployment.regions["B"]!.kill(1)
        let takeover = try await admin.failover(namespace: "orders", to: "C", force: true)
        #expect(takeover.placement.homeRegion == "C")
        print("forced failover: at most \(takeover.possiblyMissingEntries) entries possibly missing (lag \(takeover.missingLagSeconds) s)")
        let atForce = forcedCounter.value.load(ordering: .relaxed)
        #expect(await waitUntil(forcedCounter.value.load(ordering: .relaxed) >= atForce + 100, timeout: .seconds(120)),
                "writes continue in the new home")
        forcedCounter.stopped.store(true, ordering: .relaxed)
        let forcedAcknowledged = await forced

        // The old home returns: its unreplicated writes and C's reconcile; every region ends equal.
        try await deployment.regions["B"]!.restart(1)
        try await deployment.regions["B"]!.awaitReady(via: 1)
        #expect(await waitUntil(timeout: .seconds(30)) {
            (try? await deployment.client("B").describeNamespace("orders").homeRegion) == "C"
        }, "the old home learns the new one")
        #expect(await deployment.converged("orders", timeout: .seconds(90)) == nil)
        let held = Set(try await deployment.workflowIDs("orders", in: "A"))
        let lost = (acknowledged + forcedAcknowledged).filter { !held.contains($0) }
        #expect(lost.isEmpty, "\(lost.count) acknowledged writes missing after the old home returned, e.g. \(lost.prefix(3))")
        await writers.close()
        await admin.close()
    }

    @Test func federatedPagingRefusalsAndMissingRegions() async throws {
        let deployment = try await DeploymentProcesses.start(firstSubnet: 77)
        defer { deployment.killAll() }
        try await Self.createOrders(deployment)
        let home = try await deployment.client("A")
        try await Self.write(60, prefix: "era0", namespace: "orders", via: home)
        // After a failover every region answers for the executions it wrote last.
        _ = try await home.failover(namespace: "orders", to: "B")
        #expect(await waitUntil(timeout: .seconds(30)) { (try? await home.namespacePlacement("orders").homeRegion) == "B" })
        try await Self.write(60, prefix: "era1", namespace: "orders", via: home)
        let reader = try await deployment.client("C")
        let count = try await reader.count(namespace: "orders", scope: .federated())
        #expect(count.count == 120 && count.missingRegions.isEmpty, "\(count)")
        let grouped = try await reader.count(namespace: "orders", query: "GROUP BY WorkflowType", scope: .federated())
        #expect(grouped.groups.count == 1 && grouped.groups[0].count == 120, "\(grouped)")

        // Paging by 7 while the new home takes more writes: nothing skipped or repeated.
        let more = AckCounter()
        async let writing = NodeCrashTests.load(home, writers: 2, prefix: "during", type: "order", namespace: "orders",
                                                acknowledgedSoFar: more, throughFailures: true, stop: { more.stopped.load(ordering: .relaxed) })
        var seen: [String] = []
        var token: [UInt8]?
        var pages = 0
        repeat {
            let page = try await reader.list(namespace: "orders", query: "WorkflowType = 'order'", pageSize: 7, pageToken: token,
                                             scope: .federated())
            seen += page.executions.map(\.workflowID)
            token = page.nextPageToken
            pages += 1
            if pages == 3 {
                // A forged token (one byte changed), one for another query, and a local token are refused.
                var forged = try #require(token)
                forged[forged.count / 2] ^= 0x01
                await #expect(throws: PeriscopeError.self) {
                    _ = try await reader.list(namespace: "orders", query: "WorkflowType = 'order'", pageSize: 7, pageToken: forged, scope: .federated())
                }
                do {
                    _ = try await reader.list(namespace: "orders", query: "WorkflowType = 'other'", pageSize: 7, pageToken: token, scope: .federated())
                    Issue.record("a token of another query was taken")
                } catch {
                    #expect(error.code == .invalidArgument && error.message.contains("another query"), "\(error)")
                }
                do {
                    _ = try await reader.list(namespace: "orders", query: "WorkflowType = 'order'", pageSize: 7, pageToken: token)
                    Issue.record("a federated token was taken by a local query")
                } catch {
                    #expect(error.code == .invalidArgument && error.message.contains("federated"), "\(error)")
                }
            }
        } while token != nil
        more.stopped.store(true, ordering: .relaxed)
        _ = await writing
        #expect(Set(seen).count == seen.count, "repeated: \(Dictionary(grouping: seen, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted())")
        let before = Set((0..<60).map { "era0-\($0)" } + (0..<60).map { "era1-\($0)" })
        #expect(before.subtracting(seen).isEmpty, "skipped: \(before.subtracting(seen).sorted().prefix(5))")

        // A token of another namespace is refused.
        _ = try await home.createNamespace("other", homeRegion: "A", regions: ["A", "B", "C"])
        #expect(await waitUntil(timeout: .seconds(20)) { (try? await reader.describeNamespace("other")) != nil })
        let first = try await reader.list(namespace: "orders", pageSize: 5, scope: .federated())
        do {
            _ = try await reader.list(namespace: "other", pageSize: 5, pageToken: first.nextPageToken, scope: .federated())
            Issue.record("a token of another namespace was taken")
        } catch {
            #expect(error.code == .invalidArgument && error.message.contains("another namespace"), "\(error)")
        }

        // A stale copy is not an answer: A (the old home) cut off from B misses B closing
        // era0-0, so A still holds it running under failover version 0; B holds it closed.
        try await deployment.cutOff("A", from: ["B"])
        let closed = Self.execution("era0-0", second: 0)
        _ = try await reader.recordClosed(namespace: "orders", closed.with(status: .completed, closeSecond: 100, version: 2))
        #expect(try await deployment.workflowIDs("orders", in: "A").contains("era0-0"))
        let running = try await reader.list(namespace: "orders", query: "ExecutionStatus = 'Running' AND WorkflowId = 'era0-0'",
                                            scope: .federated())
        #expect(running.executions.isEmpty, "the old home's stale running copy was returned: \(running.executions)")
        let newest = try await reader.list(namespace: "orders", query: "WorkflowId = 'era0-0'", scope: .federated())
        #expect(newest.executions.map(\.status) == [.completed], "\(newest.executions)")
        try await deployment.cutOff("A", from: ["B"], cut: false)

        // Region A down: the federated query fails naming it, or with partial results names it as missing.
        deployment.regions["A"]!.kill(1)
        do {
            _ = try await reader.count(namespace: "orders", scope: .federated())
            Issue.record("a federated count answered without region A")
        } catch {
            #expect(error.code == .unavailable && error.message.contains("region A"), "\(error)")
        }
        let partial = try await reader.count(namespace: "orders", scope: .federated(allowPartial: true))
        #expect(partial.missingRegions == ["A"])
        #expect(partial.count == 61 + Int64(more.value.load(ordering: .relaxed)), "B's own writes and era0-0 it closed: \(partial.count)")
        let partialPage = try await reader.list(namespace: "orders", pageSize: 500, scope: .federated(allowPartial: true))
        #expect(partialPage.missingRegions == ["A"] && partialPage.nextPageToken != nil, "a partial last page still asks A again")
        await home.close()
        await reader.close()
    }

    @Test func badInputAcrossRegions() async throws {
        let deployment = try await DeploymentProcesses.start(firstSubnet: 80)
        defer { deployment.killAll() }
        let client = try await deployment.client("B") { $0.retry = .none }
        do {
            _ = try await client.createNamespace("x", homeRegion: "A", regions: ["A", "Z"])
            Issue.record("an unknown region was taken")
        } catch {
            #expect(error.code == .invalidArgument && error.message.contains("region 'Z' is not in the deployment"), "\(error)")
        }
        _ = try await client.createNamespace("pair", homeRegion: "A", regions: ["A", "B"])
        do {
            _ = try await client.failover(namespace: "pair", to: "C")
            Issue.record("a failover to a region not holding the namespace was taken")
        } catch {
            #expect(error.code == .failedPrecondition && error.message.contains("not held by region C"), "\(error)")
        }
        do {
            _ = try await client.failover(namespace: "pair", to: "Q")
            Issue.record("a failover to an unknown region was taken")
        } catch {
            #expect(error.code == .invalidArgument, "\(error)")
        }
        // The raw API (no client library to follow the home): a write to B is refused naming A and its address.
        let endpoint = try RPCEndpoint(deployment.address("B"))
        let rpc = try await RPCClient.connect(host: endpoint.host, port: endpoint.port)
        #expect(await waitUntil(timeout: .seconds(20)) { (try? await client.describeNamespace("pair")) != nil })
        do {
            _ = try await rpc.unary(VisibilityMethods.recordExecutionStarted, .with {
                $0.namespace = "pair"
                $0.execution = Self.execution("raw")
            }, timeout: .seconds(5))
            Issue.record("a write to a region that is not the home was taken")
        } catch {
            #expect(error.code == .failedPrecondition && error.message.contains("its home is region A")
                && error.message.contains(deployment.address("A")), "\(error)")
        }
        // Partial results only make sense federated.
        do {
            _ = try await rpc.unary(VisibilityMethods.countExecutions, .with {
                $0.namespace = "pair"
                $0.allowPartialResults = true
            }, timeout: .seconds(5))
            Issue.record("allow_partial_results was taken for a local query")
        } catch {
            #expect(error.code == .invalidArgument, "\(error)")
        }
        await rpc.close()
        // The library follows the home: the same write through B lands in A.
        let followed = try await deployment.client("B")
        _ = try await followed.recordStarted(namespace: "pair", Self.execution("followed"))
        #expect(try await deployment.client("A").execution(namespace: "pair", workflowID: "followed", runID: "r", consistency: .strong) != nil)
        await followed.close()
        await client.close()
    }
}
