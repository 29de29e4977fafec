import Foundation
import PeriscopeAPI
import PeriscopeClient
import PeriscopeTestSupport
import Synchronization
import Testing

/// Acknowledged means durable: a node killed with SIGKILL mid-load, or stopped with SIGTERM,
/// has every acknowledged write after a restart, and indexed.
@Suite(.serialized) struct NodeCrashTests {
    /// Writers record until `stop`, or until they fail (the node went away) unless
    /// `throughFailures` (then a failed write is not acknowledged and the next is tried);
    /// returns the acknowledged ids.
    /// Writers stop when `stop` says so or their task is cancelled (a test that throws
    /// cancels its pending `async let`s: the load must not outlive it).
    static func load(_ client: PeriscopeClient, writers: Int, prefix: String, type: String = "crash", namespace: String = "default",
                     acknowledgedSoFar: AckCounter, throughFailures: Bool = false, stop: @escaping @Sendable () -> Bool) async -> [String] {
        await withTaskGroup(of: [String].self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var acknowledged: [String] = []
                    var number = 0
                    while !stop(), !Task.isCancelled {
                        let id = "\(prefix)-\(writer)-\(number)"
                        let execution = Execution.with {
                            $0.workflowID = id; $0.runID = "r"; $0.workflowType = type; $0.taskQueue = "q"; $0.status = .running
                            $0.startTime = .with { $0.seconds = 1_790_000_000 + Int64(number) }
                        }
                        do {
                            _ = try await client.recordStarted(namespace: namespace, execution)
                            acknowledged.append(id)
                            acknowledgedSoFar.value.add(1, ordering: .relaxed)
                        } catch {
                            guard throughFailures else { break }
                            try? await Task.sleep(for: .milliseconds(20))
                        }
                        number += 1
                    }
                    return acknowledged
                }
            }
            var all: [String] = []
            for await ids in group { all += ids }
            return all
        }
    }

    /// Every acknowledged id is listed by a strong query after the restart.
    static func expectAllPresent(_ acknowledged: [String], at address: String) async throws {
        let client = try await PeriscopeClient.connect(to: address)
        var listed = Set<String>()
        for try await execution in client.executions(namespace: "default", query: "WorkflowType = 'crash'", pageSize: 1_000,
                                                     consistency: .strong) {
            listed.insert(execution.workflowID)
        }
        let missing = acknowledged.filter { !listed.contains($0) }
        #expect(missing.isEmpty, "\(missing.count) of \(acknowledged.count) acknowledged writes are missing, e.g. \(missing.prefix(3))")
        #expect(listed.count >= acknowledged.count)
        await client.close()
    }

    @Test func killMinusNineLosesNothingAcknowledged() async throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let node = try await NodeProcess.start(data: directory + "/data")
        var configuration = PeriscopeClient.Configuration()
        configuration.retry = .none  // a write either is acknowledged or not: no retry across the kill
        let client = try await PeriscopeClient.connect(to: node.address, configuration: configuration)
        let killed = AckCounter()
        let count = AckCounter()
        async let acknowledged = Self.load(client, writers: 16, prefix: "k9", acknowledgedSoFar: count, stop: { killed.stopped.load(ordering: .relaxed) })
        // Mid-load by count, not by time: under the rest of the suite two cores are slow.
        #expect(await waitUntil(count.value.load(ordering: .relaxed) >= 500, timeout: .seconds(120)))
        node.killMinusNine()
        killed.stopped.store(true, ordering: .relaxed)
        let ids = await acknowledged
        await client.close()
        #expect(ids.count >= 500, "the load ran: \(ids.count) writes acknowledged before the kill")

        let restarted = try await NodeProcess.start(data: directory + "/data")
        try await Self.expectAllPresent(ids, at: restarted.address)
        #expect(try await restarted.terminate() == 0)
    }

    @Test func sigtermDrainsAndExitsZero() async throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let node = try await NodeProcess.start(data: directory + "/data")
        var configuration = PeriscopeClient.Configuration()
        configuration.retry = .none
        let client = try await PeriscopeClient.connect(to: node.address, configuration: configuration)
        let stopping = AckCounter()
        let count = AckCounter()
        async let acknowledged = Self.load(client, writers: 8, prefix: "term", acknowledgedSoFar: count, stop: { stopping.stopped.load(ordering: .relaxed) })
        #expect(await waitUntil(count.value.load(ordering: .relaxed) >= 200, timeout: .seconds(120)))
        let status = try await node.terminate()
        stopping.stopped.store(true, ordering: .relaxed)
        let ids = await acknowledged
        await client.close()
        #expect(status == 0, "SIGTERM: drain, stop, exit 0")
        #expect(ids.count >= 200)
        let log = (try? String(contentsOfFile: node.directory + "/" + (try FileManager.default.contentsOfDirectory(atPath: node.directory)
            .first { $0.hasSuffix(".out.err") } ?? ""), encoding: .utf8)) ?? ""
        #expect(!log.contains("critical"), "\(log)")

        let restarted = try await NodeProcess.start(data: directory + "/data")
        try await Self.expectAllPresent(ids, at: restarted.address)
        #expect(try await restarted.terminate() == 0)
    }

    /// A node waiting for `cluster init` stops on SIGTERM, exit 0, having created no region
    /// (it ignored SIGTERM until an init came, found while building the chaos harness).
    @Test func sigtermWhileWaitingForInitExitsZero() async throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let host = "127.0.59.2"
        let port = try RegionProcesses.freePort(host: host)
        let (process, output) = try CLITests.startLogging(["node", "start", "--wait-for-init", "--node-id", "1", "--host", host,
                                                           "--port", "\(port)", "--data", directory + "/data"], to: directory + "/out")
        defer { try? output.close() }
        // Listening for the init: a health check answers.
        #expect(await waitUntil(timeout: .seconds(60)) {
            (try? CLITests.runProgram("/usr/bin/curl", ["-s", "--http2-prior-knowledge", "http://\(host):\(port)/healthz"]).stdout) == "ok\n"
        })
        kill(process.processIdentifier, SIGTERM)
        let stopped = await waitUntil(timeout: .seconds(10)) { !process.isRunning }
        if !stopped { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        #expect(stopped, "SIGTERM while waiting for init was ignored")
        #expect(process.terminationStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: directory + "/data/cluster.json"))
    }
}

/// Shared between the writers and the test: acknowledgements so far, and the stop flag.
final class AckCounter: Sendable {
    let value = Atomic<Int>(0)
    let stopped = Atomic<Bool>(false)
}
