import ArgumentParser
import Foundation
import PeriscopeModel
import PeriscopeQuery
import PeriscopeNode
import PeriscopeShard
import Synchronization

/// One shard with N synthetic executions: ingest rate, index lag under sustained ingest,
/// and the latency of a fixed query mix (docs/benchmarks.md).
struct ShardBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark one shard: ingest, index lag, and p50/p99 of a fixed query mix."
    )

    @Option(help: "Synthetic executions to ingest.")
    var executions = 1_000_000

    @Option(help: "Entries per apply call (a Raft apply batch).")
    var batch = 1_000

    @Option(help: "Runs of each query.")
    var runs = 50

    @Option(help: "Entries per second to hold ingest at, to measure index lag below the indexer's capacity (0: as fast as apply goes).")
    var rate = 0

    @Option(help: "Where the shard goes (a fresh temporary directory by default; removed afterwards).")
    var directory: String?

    @Option(help: "Seed of the synthetic data.")
    var seed: UInt64 = 1

    func run() throws {
        guard executions > 0, batch > 0, runs > 0 else { throw ValidationError("--executions, --batch and --runs must be positive") }
        guard rate >= 0 else { throw ValidationError("--rate must be 0 (unpaced) or positive") }
        let root = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("periscope-shard-bench-\(getpid())").path
        defer { if directory == nil { try? FileManager.default.removeItem(atPath: root) } }
        let key = PageTokenKey(bytes: Array(repeating: 0x5A, count: 32))
        let shard = try Shard.open(at: root, configuration: Shard.Configuration(pageTokenKey: key))
        defer { try? shard.close() }
        let origin = Timestamp(secondsSinceEpoch: 1_790_000_000)
        let feeder = SyntheticFeeder(workload: SyntheticWorkload(origin: origin), seed: seed)

        // Ingest with the indexer running beside apply; lag is measured in time: when the
        // watermark passes an applied index, how long ago apply reached it.
        let marks = Mutex<[(index: UInt64, at: ContinuousClock.Instant)]>([])
        let lags = Mutex<[Duration]>([])
        let indexer = ShardIndexer(shard: shard, idleWait: .milliseconds(1))
        indexer.onBatch = { watermark in
            let now = ContinuousClock.now
            let passed = marks.withLock { marks in
                let count = marks.prefix { $0.index <= watermark }.count
                defer { marks.removeFirst(count) }
                return Array(marks.prefix(count))
            }
            lags.withLock { $0 += passed.map { now - $0.at } }
        }
        print("ingesting \(executions) executions in apply batches of \(batch) entries, indexer running alongside"
            + (rate > 0 ? ", paced at \(rate) entries/s" : ""))
        let started = ContinuousClock.now
        indexer.start()
        var written = 0
        var entries = 0
        while written < executions {
            let count = min(batch, executions - written)
            let commands = feeder.commands(executions: written..<written + count)
            try shard.apply(commands)
            entries += commands.count
            written += count
            let applied = shard.appliedIndex
            marks.withLock { $0.append((applied, ContinuousClock.now)) }
            if rate > 0 {
                // Open loop: entry n is due n/rate seconds after the start, however late the last batch was.
                let due = started + .nanoseconds(Int64(Double(entries) / Double(rate) * 1e9))
                let wait = due - ContinuousClock.now
                if wait > .zero { Thread.sleep(forTimeInterval: wait.seconds) }
            }
        }
        let closes = feeder.drain()
        try shard.apply(closes)
        entries += closes.count
        let applyDone = ContinuousClock.now
        try indexer.stop()
        let indexDone = ContinuousClock.now
        let applySeconds = (applyDone - started).seconds
        let lagSamples = lags.withLock { $0 }.sorted()
        print(String(format: "ingest: %d executions, %d entries in %.1f s: %.0f executions/s, %.0f entries/s applied",
                     executions, entries, applySeconds, Double(executions) / applySeconds, Double(entries) / applySeconds))
        print(String(format: "index lag while ingesting (%d samples): p50 %.0f ms, p99 %.0f ms, max %.0f ms; caught up %.1f s after the last apply",
                     lagSamples.count, millis(percentile(lagSamples, 0.5, empty: .zero)), millis(percentile(lagSamples, 0.99, empty: .zero)),
                     millis(lagSamples.last ?? .zero), (indexDone - applyDone).seconds))
        let sizes = try directorySize(root)
        print(String(format: "on disk: %.0f MiB (RocksDB, before compaction settles)", Double(sizes) / 1_048_576))

        try measureQueries(shard: shard, origin: origin)
    }

    private func measureQueries(shard: Shard, origin: Timestamp) throws {
        let schema = try NamespaceSchema(customAttributes: SyntheticWorkload.customAttributes)
        func plan(_ text: String, _ context: QueryContext = .list) throws -> QueryPlan {
            try Query.compile(text, schema: schema, context: context).plan
        }
        let day: Int64 = 86_400
        let rangeStart = Timestamp(secondsSinceEpoch: origin.nanosecondsSinceEpoch / 1_000_000_000 - 2 * day)
        let rangeEnd = Timestamp(secondsSinceEpoch: origin.nanosecondsSinceEpoch / 1_000_000_000 - 2 * day + 3_600)
        let lists: [(String, String)] = [
            ("default listing, first page", ""),
            ("status filter", "ExecutionStatus = 'Running'"),
            ("time range (1 h of starts)", "StartTime BETWEEN '\(rangeStart.rfc3339)' AND '\(rangeEnd.rfc3339)'"),
            ("custom keyword equality", "CustomKeywordField = 'customer-42'"),
            ("keyword list contains", "BuildIds = 'v1.3'"),
            ("text match", "CustomTextField = 'refund'"),
            ("ORDER BY int (one customer)", "CustomKeywordField = 'customer-7' ORDER BY CustomIntField DESC"),
            ("ORDER BY int (all executions)", "ORDER BY CustomIntField DESC"),
        ]
        print("\nquery (page size 100)               p50 ms   p99 ms     rows  keys read   plan")
        for (name, text) in lists {
            let request = ShardPageRequest(namespaceId: "bench", plan: try plan(text), pageSize: 100)
            var last: ShardPageResponse?
            let latencies = try time(runs) { last = try shard.listPage(request) }
            report(name, latencies, rows: last?.records.count ?? 0, explain: last?.explain ?? "")
        }
        // A deep page: page 100 of the default listing, through the token of page 99.
        var token: [UInt8]?
        let defaultPlan = try plan("")
        for _ in 0..<99 { token = try shard.listPage(ShardPageRequest(namespaceId: "bench", plan: defaultPlan, pageSize: 100, pageToken: token)).nextPageToken }
        var deep: ShardPageResponse?
        let deepLatencies = try time(runs) {
            deep = try shard.listPage(ShardPageRequest(namespaceId: "bench", plan: defaultPlan, pageSize: 100, pageToken: token))
        }
        report("default listing, page 100", deepLatencies, rows: deep?.records.count ?? 0, explain: deep?.explain ?? "")
        for (name, text) in [("count Completed", "ExecutionStatus = 'Completed'"), ("count GROUP BY ExecutionStatus", "GROUP BY ExecutionStatus")] {
            let countPlan = try plan(text, .count)
            var last: ShardCount?
            let latencies = try time(max(5, runs / 10)) { last = try shard.count(namespaceId: "bench", plan: countPlan) }
            report(name, latencies, rows: last?.result.total ?? 0, explain: (last?.indexOnly == true ? "index-only " : "") + (last?.explain ?? ""))
        }
    }

    private func time(_ runs: Int, _ body: () throws -> Void) throws -> [Duration] {
        try body()  // warm the cache once
        return try (0..<runs).map { _ in
            let started = ContinuousClock.now
            try body()
            return ContinuousClock.now - started
        }.sorted()
    }

    private func report(_ name: String, _ latencies: [Duration], rows: Int, explain: String) {
        let keys = explain.split(separator: "\n").last { $0.hasPrefix("read: ") }.map { String($0.dropFirst(6)) } ?? "-"
        let path = explain.split(separator: "\n").first.map(String.init) ?? ""
        let numbers = String(format: "%7.2f  %7.2f  %7d  ", millis(percentile(latencies, 0.5, empty: .zero)), millis(percentile(latencies, 0.99, empty: .zero)), rows)
        print(name.padding(toLength: 34, withPad: " ", startingAt: 0) + numbers + keys.padding(toLength: 12, withPad: " ", startingAt: 0) + path)
    }

    private func millis(_ duration: Duration) -> Double { duration.seconds * 1_000 }

    private func directorySize(_ path: String) throws -> Int {
        let files = FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String } ?? []
        return files.reduce(0) { total, file in
            total + ((try? FileManager.default.attributesOfItem(atPath: "\(path)/\(file)")[.size] as? Int) ?? 0)
        }
    }
}
