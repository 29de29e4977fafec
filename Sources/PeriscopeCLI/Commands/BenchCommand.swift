import ArgumentParser
import Foundation
import PeriscopeAPI
import PeriscopeClient
import PeriscopeModel

/// The load generator of the node benchmark (`scripts/bench-node.sh`): acknowledged writes
/// per second at several concurrencies, write latency, visibility lag and a query mix,
/// through the client library against a running node.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load a running node: writes/s and latency at several concurrencies, visibility lag, query latencies.",
        discussion: """
            Every write is a RecordExecutionStarted acknowledged after its Raft entry is fsync'd and \
            applied. Visibility lag: a probe writes one execution while the load runs and polls a list \
            query for it every millisecond; the time from the acknowledgement to the first list that \
            shows it. Creates the namespace if it is missing.
            """
    )
    @OptionGroup var client: ClientOptions
    @Option(help: "The namespace to write into (created if missing).") var namespace = "bench"
    @Option(help: "Concurrent writers for each step, comma-separated.") var writers = "1,16,128"
    @Option(help: "Seconds each step runs.") var seconds = 10.0
    @Option(help: "Visibility probes per step.") var probes = 20
    @Option(help: "Runs of each query of the mix.") var queryRuns = 30

    func run() async throws {
        let levels = writers.split(separator: ",").compactMap { Int($0) }
        guard !levels.isEmpty, levels.allSatisfy({ $0 > 0 && $0 <= 4_096 }) else { throw ArgumentParser.ValidationError("--writers: positive counts, e.g. 1,16,128") }
        try await reportingFailures {
            try await client.withClient { client in
                do { _ = try await client.createNamespace(namespace) } catch let error as PeriscopeError where error.code == .alreadyExists { _ = error }
                let runID = UInt64.random(in: 0...UInt64.max)
                print("periscope bench against \(self.client.address), namespace \(namespace), \(seconds) s per step")
                print(" writers     writes/s     p50 ms     p99 ms     max ms   lag p50 ms   lag p99 ms")
                for level in levels {
                    let step = try await writeStep(client: client, writers: level, runID: runID)
                    print(String(format: "%8d %12.0f %10.2f %10.2f %10.2f %12.2f %12.2f", level, step.rate, step.p50, step.p99, step.max,
                                 step.lagP50, step.lagP99))
                    fflush(nil)
                }
                try await queryMix(client: client)
            }
        }
    }

    struct Step {
        var rate: Double, p50: Double, p99: Double, max: Double, lagP50: Double, lagP99: Double
    }

    private func writeStep(client: PeriscopeClient, writers: Int, runID: UInt64) async throws -> Step {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1_000))
        let started = ContinuousClock.now
        let namespace = self.namespace
        let probes = self.probes, seconds = self.seconds
        let (latencies, lags) = try await withThrowingTaskGroup(of: (probe: Bool, milliseconds: [Double]).self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var sequence = 0
                    var mine: [Double] = []
                    while ContinuousClock.now < deadline {
                        let execution = BenchCommand.execution(id: "w\(writers)-\(writer)-\(sequence)-\(runID)", number: sequence)
                        let before = ContinuousClock.now
                        _ = try await client.recordStarted(namespace: namespace, execution)
                        mine.append((ContinuousClock.now - before).seconds * 1_000)
                        sequence += 1
                    }
                    return (false, mine)
                }
            }
            group.addTask {
                // The probe: spread over the step, each waits for its execution in a list.
                var lags: [Double] = []
                for probe in 0..<probes {
                    guard ContinuousClock.now < deadline else { break }
                    let id = "probe-\(writers)-\(probe)-\(runID)"
                    _ = try await client.recordStarted(namespace: namespace, BenchCommand.execution(id: id, number: probe))
                    let acknowledged = ContinuousClock.now
                    while true {
                        let page = try await client.list(namespace: namespace, query: "WorkflowId = '\(id)'", pageSize: 1)
                        if !page.executions.isEmpty { break }
                        try await Task.sleep(for: .milliseconds(1))
                    }
                    lags.append((ContinuousClock.now - acknowledged).seconds * 1_000)
                    try await Task.sleep(for: .milliseconds(Int64(seconds * 1_000) / Int64(max(1, probes)) / 2))
                }
                return (true, lags)
            }
            var writes: [Double] = [], lags: [Double] = []
            for try await result in group {
                if result.probe { lags += result.milliseconds } else { writes += result.milliseconds }
            }
            return (writes, lags)
        }
        let elapsed = (ContinuousClock.now - started).seconds
        let sorted = latencies.sorted()
        let lagSorted = lags.sorted()
        return Step(rate: Double(sorted.count) / elapsed, p50: percentile(sorted, 0.5, empty: 0), p99: percentile(sorted, 0.99, empty: 0),
                    max: sorted.last ?? 0, lagP50: percentile(lagSorted, 0.5, empty: 0), lagP99: percentile(lagSorted, 0.99, empty: 0))
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

/// The value below which `fraction` of `sorted` lies (nearest rank); `empty` for no values.
func percentile<Value>(_ sorted: [Value], _ fraction: Double, empty: Value) -> Value {
    guard !sorted.isEmpty else { return empty }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}
