import Foundation
import NIOPosix
import PeriscopeAPI
@testable import PeriscopeClient
import PeriscopeRPC
import Synchronization
import Testing

/// The client's leader routing. A node that lost leadership is a fault this single-node
/// build cannot produce, so it is injected: an in-process stand-in for a deposed leader
/// whose shard map first names itself, answers the write "not the leader", and then names
/// the real node (a child process), which must get the write.
@Suite(.serialized) struct ClientRoutingTests {
    final class DeposedLeader: Sendable {
        let writes = Atomic<Int>(0)
        let mapLoads = Atomic<Int>(0)
    }

    @Test func aNotLeaderAnswerRefreshesTheMapAndTheRetryReachesTheLeader() async throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let real = try await NodeProcess.start(data: directory + "/data", extra: ["--shards", "2"])
        let direct = try await PeriscopeClient.connect(to: real.address)
        let namespace = try await direct.describeNamespace("default")

        let fake = DeposedLeader()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let fakePort = Mutex<Int>(0)
        let realAddress = real.address
        var router = RPCRouter()
        router.unary(AdminMethods.getClusterStatus) { _, _ in
            .with {
                $0.shardCount = 2
                $0.nodes = [.with { $0.nodeID = "1"; $0.address = "127.0.0.1:\(fakePort.withLock { $0 })" },
                            .with { $0.nodeID = "2"; $0.address = realAddress }]
            }
        }
        router.unary(AdminMethods.getShardMap) { _, _ in
            let load = fake.mapLoads.add(1, ordering: .relaxed).newValue
            return .with { map in
                map.shards = (0..<2).map { shard in .with { $0.shardID = UInt32(shard); $0.leaderNodeID = load == 1 ? "1" : "2" } }
            }
        }
        router.unary(VisibilityMethods.describeNamespace) { _, _ in .with { $0.namespace = namespace } }
        router.unary(VisibilityMethods.recordExecutionStarted) { _, _ in
            fake.writes.add(1, ordering: .relaxed)
            throw RPCStatus(.unavailable, "group 1000: this replica is not the leader; the leader is node 2")
        }
        let server = try await RPCServer.start(host: "127.0.0.1", port: 0, router: router, group: group)
        fakePort.withLock { $0 = server.localAddress.port! }

        let client = try await PeriscopeClient.connect(to: "127.0.0.1:\(server.localAddress.port!)")
        let execution = Execution.with {
            $0.workflowID = "routed"; $0.runID = "r"; $0.workflowType = "t"; $0.taskQueue = "q"; $0.status = .running
            $0.startTime = .with { $0.seconds = 1_790_000_000 }
        }
        let written = try await client.recordStarted(namespace: "default", execution)
        #expect(written.applied)
        #expect(fake.writes.load(ordering: .relaxed) == 1, "the first attempt went to the map's leader")
        #expect(fake.mapLoads.load(ordering: .relaxed) == 2, "the not-leader answer dropped the map; the retry loaded it again")
        #expect(await client.routing.loads == 2)
        let stored = try await direct.execution(namespace: "default", workflowID: "routed", runID: "r", consistency: .strong)
        #expect(stored?.workflowType == "t", "the real leader has the write")

        // A second write routes by the cached map: straight to the real node.
        _ = try await client.recordStarted(namespace: "default", Execution.with { var e = execution; e.workflowID = "routed-2"; $0 = e })
        #expect(fake.writes.load(ordering: .relaxed) == 1 && fake.mapLoads.load(ordering: .relaxed) == 2)

        await client.close()
        await direct.close()
        await server.shutdown()
        try await group.shutdownGracefully()
        #expect(try await real.terminate() == 0)
    }

    /// A node that answers every write UNAVAILABLE after 700 ms (a region without a leader):
    /// retried, each attempt within its own deadline, six attempts took about 5 s against a
    /// 2 s `--timeout` (issue 20). `totalTimeout` bounds the whole call.
    @Test func theTotalTimeoutBoundsACallAndItsRetries() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var router = RPCRouter()
        router.unary(VisibilityMethods.recordExecutionStarted) { _, _ in
            try await Task.sleep(for: .milliseconds(700))
            throw RPCStatus(.unavailable, "group 1000 found no reachable leader")
        }
        let server = try await RPCServer.start(host: "127.0.0.1", port: 0, router: router, group: group)
        let execution = Execution.with {
            $0.workflowID = "bounded"; $0.runID = "r"; $0.workflowType = "t"; $0.taskQueue = "q"; $0.status = .running
            $0.startTime = .with { $0.seconds = 1_790_000_000 }
        }
        func attempt(total: Duration?) async throws -> (Duration, PeriscopeError?) {
            var configuration = PeriscopeClient.Configuration()
            configuration.routesWritesToLeaders = false
            configuration.callTimeout = .seconds(2)
            configuration.totalTimeout = total
            let client = try await PeriscopeClient.connect(to: "127.0.0.1:\(server.localAddress.port!)", configuration: configuration)
            let started = ContinuousClock.now
            var failure: PeriscopeError?
            do { _ = try await client.recordStarted(namespace: "default", execution) } catch { failure = error }
            let elapsed = ContinuousClock.now - started
            await client.close()
            return (elapsed, failure)
        }
        let (perAttempt, _) = try await attempt(total: nil)
        #expect(perAttempt > .seconds(3), "without a total bound, retries outlast one attempt's deadline: \(perAttempt)")
        let (bounded, failure) = try await attempt(total: .seconds(2))
        #expect(bounded < .milliseconds(2_500), "the call took \(bounded)")
        #expect(failure?.code == .deadlineExceeded || failure?.code == .unavailable, "\(String(describing: failure))")
        await server.shutdown()
        try await group.shutdownGracefully()
    }
}

/// Which node of a namespace's home region the client sends through (`HomeRouting`): one
/// that fails as a cut-off, paused or gone node fails is passed over for the next; a
/// success ends the streak; every node failing in a row forgets the home (the client then
/// asks its seed's region, which names the current home).
@Suite struct HomeRoutingTests {
    @Test func aFailingHomeNodeIsPassedOverAndAWholeRoundForgetsTheHome() async throws {
        let homes = HomeRouting()
        let (a, b, c) = (RPCEndpoint(host: "127.0.0.1", port: 1), RPCEndpoint(host: "127.0.0.2", port: 1), RPCEndpoint(host: "127.0.0.3", port: 1))
        await homes.learn("orders", addresses: [a, b, c])
        #expect(await homes.seed(for: "orders") == a)
        await homes.failed("orders", at: a)
        #expect(await homes.seed(for: "orders") == b)
        // A failure reported for a node no longer in use (a late answer) changes nothing.
        await homes.failed("orders", at: a)
        #expect(await homes.seed(for: "orders") == b)
        await homes.succeeded("orders")
        await homes.failed("orders", at: b)
        await homes.failed("orders", at: c)
        #expect(await homes.seed(for: "orders") == a, "two failures in a row after a success: the third node")
        await homes.failed("orders", at: a)
        #expect(await homes.seed(for: "orders") == nil, "all three failed in a row: the home is forgotten")
        await homes.learn("orders", addresses: [b])
        await homes.failed("orders", at: b)
        #expect(await homes.seed(for: "orders") == nil, "a home of one node that fails is forgotten at once")
    }
}
