import ArgumentParser
import Foundation
import PeriscopeAPI
import PeriscopeClient
import PeriscopeModel
import PeriscopeRPC

/// The load generator of the node and region benchmarks (`scripts/bench-node.sh`,
/// `scripts/bench-region.sh`): acknowledged writes per second at several concurrencies,
/// write latency, visibility lag and a query mix, through the client library against a
/// running node, or the same write load against etcd (`--etcd`), the region benchmark's
/// baseline, through the same HTTP/2 and gRPC client.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load a running node (or etcd): writes/s and latency at several concurrencies, visibility lag, query latencies.",
        discussion: """
            Every write is a RecordExecutionStarted acknowledged after its Raft entry is fsync'd (by a \
            majority, in a region) and applied. Visibility lag: a probe writes one execution while the \
            load runs and polls a list query for it every millisecond (through --read-address if given, \
            e.g. a follower: eventual reads are served by the replica of the node asked); the time from \
            the acknowledgement to the first list that shows it. Creates the namespace if it is missing. \
            With --etcd URL the writers put --value-bytes values under new keys with etcd's KV.Put instead \
            (one HTTP/2 connection, as the client library keeps one per node), and no lag or queries run.
            """
    )
    @OptionGroup var client: ClientOptions
    @Option(help: "The namespace to write into (created if missing).") var namespace = "bench"
    @Option(help: "Concurrent writers for each step, comma-separated.") var writers = "1,16,128"
    @Option(help: "Seconds each step runs.") var seconds = 10.0
    @Option(help: "Visibility probes per step.") var probes = 20
    @Option(help: "Runs of each query of the mix.") var queryRuns = 30
    @Option(help: "Poll for visibility through this node instead (host:port).") var readAddress: String?
    @Option(help: "Load etcd at this host:port instead (gRPC KV.Put).") var etcd: String?
    @Option(help: "With --etcd: bytes per value (default: the size of one Periscope write request).") var valueBytes: Int?

    func run() async throws {
        let levels = writers.split(separator: ",").compactMap { Int($0) }
        guard !levels.isEmpty, levels.allSatisfy({ $0 > 0 && $0 <= 4_096 }) else { throw ArgumentParser.ValidationError("--writers: positive counts, e.g. 1,16,128") }
        if let etcd { return try await runAgainstEtcd(etcd, levels: levels) }
        try await reportingFailures {
            try await client.withClient { client in
                do { _ = try await client.createNamespace(namespace) } catch let error as PeriscopeError where error.code == .alreadyExists { _ = error }
                var readOptions = self.client
                readOptions.address = readAddress ?? self.client.address
                try await readOptions.withClient { reader in
                    let runID = UInt64.random(in: 0...UInt64.max)
                    print("periscope bench against \(self.client.address), namespace \(namespace), \(seconds) s per step"
                        + (readAddress.map { ", visibility read through \($0)" } ?? ""))
                    print(" writers     writes/s     p50 ms     p99 ms     max ms   lag p50 ms   lag p99 ms   failed")
                    for level in levels {
                        let step = try await writeStep(client: client, reader: reader, writers: level, runID: runID)
                        print(String(format: "%8d %12.0f %10.2f %10.2f %10.2f %12.2f %12.2f %8d", level, step.rate, step.p50, step.p99,
                                     step.max, step.lagP50, step.lagP99, step.failures))
                        fflush(nil)
                    }
                    try await queryMix(client: reader)
                }
            }
        }
    }

    struct Step {
        var rate: Double, p50: Double, p99: Double, max: Double, lagP50: Double, lagP99: Double, failures: Int

        init(_ load: WriteLoad.Result, lags: [Double] = []) {
            let sorted = load.latencies.sorted(), lagSorted = lags.sorted()
            rate = Double(sorted.count) / load.elapsed
            p50 = percentile(sorted, 0.5, empty: 0)
            p99 = percentile(sorted, 0.99, empty: 0)
            max = sorted.last ?? 0
            lagP50 = percentile(lagSorted, 0.5, empty: 0)
            lagP99 = percentile(lagSorted, 0.99, empty: 0)
            failures = load.failures
        }
    }

    private func writeStep(client: PeriscopeClient, reader: PeriscopeClient, writers: Int, runID: UInt64) async throws -> Step {
        let namespace = self.namespace
        let probes = self.probes, seconds = self.seconds
        async let lags = probeLags(client: client, reader: reader, writers: writers, runID: runID, probes: probes, seconds: seconds)
        let load = await WriteLoad.run(writers: writers, seconds: seconds) { writer, sequence in
            let execution = BenchCommand.execution(id: "w\(writers)-\(writer)-\(sequence)-\(runID)", number: sequence)
            _ = try await client.recordStarted(namespace: namespace, execution)
        }
        return Step(load, lags: try await lags)
    }

    /// The probe: spread over the step, each write waits for its execution in a list.
    private func probeLags(client: PeriscopeClient, reader: PeriscopeClient, writers: Int, runID: UInt64, probes: Int,
                           seconds: Double) async throws -> [Double] {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1_000))
        var lags: [Double] = []
        for probe in 0..<probes {
            guard ContinuousClock.now < deadline else { break }
            let id = "probe-\(writers)-\(probe)-\(runID)"
            _ = try await client.recordStarted(namespace: namespace, BenchCommand.execution(id: id, number: probe))
            let acknowledged = ContinuousClock.now
            while true {
                let page = try await reader.list(namespace: namespace, query: "WorkflowId = '\(id)'", pageSize: 1)
                if !page.executions.isEmpty { break }
                try await Task.sleep(for: .milliseconds(1))
            }
            lags.append((ContinuousClock.now - acknowledged).seconds * 1_000)
            try await Task.sleep(for: .milliseconds(Int64(seconds * 1_000) / Int64(max(1, probes)) / 2))
        }
        return lags
    }

    /// The baseline: the same writers putting new keys into etcd.
    private func runAgainstEtcd(_ address: String, levels: [Int]) async throws {
        let endpoint = try RPCEndpoint(address)
        let sample = Periscope_V1_RecordExecutionStartedRequest.with {
            $0.namespace = namespace
            $0.execution = BenchCommand.execution(id: "w16-15-1234-\(UInt64.max)", number: 1234)
        }
        let bytes = try valueBytes ?? (sample.serializedBytes() as [UInt8]).count
        let value = Data(repeating: UInt8(ascii: "v"), count: bytes)
        let rpc = try await RPCClient.connect(host: endpoint.host, port: endpoint.port)
        let put = RPCMethod<Etcdserverpb_PutRequest, Etcdserverpb_PutResponse>(service: "etcdserverpb.KV", name: "Put")
        let runID = UInt64.random(in: 0...UInt64.max)
        print("etcd bench against \(address), \(bytes)-byte values, \(seconds) s per step")
        print(" writers     writes/s     p50 ms     p99 ms     max ms   failed")
        for level in levels {
            let load = await WriteLoad.run(writers: level, seconds: seconds) { writer, sequence in
                _ = try await rpc.unary(put, .with {
                    $0.key = Data("bench/\(runID)/\(level)/\(writer)/\(sequence)".utf8)
                    $0.value = value
                }, timeout: .seconds(30))
            }
            let step = Step(load)
            print(String(format: "%8d %12.0f %10.2f %10.2f %10.2f %8d", level, step.rate, step.p50, step.p99, step.max, step.failures))
            fflush(nil)
        }
        await rpc.close()
    }

    private func queryMix(client: PeriscopeClient) async throws {
        let total = try await client.count(namespace: namespace).count
        print("\nquery mix over \(total) executions (\(queryRuns) runs each; eventual consistency)")
        print("query".padding(toLength: 58, withPad: " ", startingAt: 0) + "     p50 ms     p99 ms     rows")
        let mix: [(String, Bool, String)] = [
            ("list, default order, page of 100", false, ""),
            ("list WorkflowType = 'order', page of 100", false, "WorkflowType = 'order'"),
            ("list ORDER BY StartTime DESC, page of 100", false, "ORDER BY StartTime DESC"),
            ("list ExecutionStatus = 'Running' AND TaskQueue = 'q-3'", false, "ExecutionStatus = 'Running' AND TaskQueue = 'q-3'"),
            ("count everything", true, ""),
            ("count GROUP BY WorkflowType", true, "GROUP BY WorkflowType"),
        ]
        for (name, isCount, query) in mix {
            var times: [Double] = []
            var rows = 0
            for _ in 0..<queryRuns {
                let before = ContinuousClock.now
                if isCount {
                    rows = Int(try await client.count(namespace: namespace, query: query).count)
                } else {
                    rows = try await client.list(namespace: namespace, query: query, pageSize: 100).executions.count
                }
                times.append((ContinuousClock.now - before).seconds * 1_000)
            }
            times.sort()
            print(name.padding(toLength: 58, withPad: " ", startingAt: 0)
                + String(format: " %10.2f %10.2f %8d", percentile(times, 0.5, empty: 0), percentile(times, 0.99, empty: 0), rows))
        }
    }

    static func execution(id: String, number: Int) -> Execution {
        .with {
            $0.workflowID = id
            $0.runID = "r-\(number)"
            $0.version = 1
            $0.workflowType = ["order", "payment", "shipment", "refund"][number % 4]
            $0.taskQueue = "q-\(number % 8)"
            $0.status = .running
            $0.startTime = .with { $0.seconds = Int64(Date().timeIntervalSince1970) }
        }
    }
}

/// Concurrent writers, each writing one after another until the step's time is up: every
/// acknowledged write's latency in milliseconds, and how long the step took.
enum WriteLoad {
    struct Result {
        var latencies: [Double]
        var elapsed: Double
        /// Writes that failed (after the client's own retries): counted, and the writer goes on.
        var failures: Int
    }

    static func run(writers: Int, seconds: Double,
                    _ write: @escaping @Sendable (_ writer: Int, _ sequence: Int) async throws -> Void) async -> Result {
        let started = ContinuousClock.now
        let deadline = started + .milliseconds(Int64(seconds * 1_000))
        let (latencies, failures) = await withTaskGroup(of: ([Double], Int).self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var sequence = 0
                    var mine: [Double] = []
                    var failures = 0
                    while ContinuousClock.now < deadline {
                        let before = ContinuousClock.now
                        do {
                            try await write(writer, sequence)
                            mine.append((ContinuousClock.now - before).seconds * 1_000)
                        } catch {
                            if failures == 0 { FileHandle.standardError.write(Data("bench: writer \(writer): a write failed: \(error)\n".utf8)) }
                            failures += 1
                            try? await Task.sleep(for: .milliseconds(10))
                        }
                        sequence += 1
                    }
                    return (mine, failures)
                }
            }
            return await group.reduce(into: ([Double](), 0)) { $0.0 += $1.0; $0.1 += $1.1 }
        }
        return Result(latencies: latencies, elapsed: (ContinuousClock.now - started).seconds, failures: failures)
    }
}

/// The value below which `fraction` of `sorted` lies (nearest rank); `empty` for no values.
func percentile<Value>(_ sorted: [Value], _ fraction: Double, empty: Value) -> Value {
    guard !sorted.isEmpty else { return empty }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}
