import ArgumentParser
import Foundation
import PeriscopeRaftSimulator
import PeriscopeStorage

/// Commits per second of a 3-member group with real log stores (fsync on), next to the
/// baseline of one fsync per entry on the same disk.
struct RaftBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark durable Raft commits: proposals/s and fsyncs per entry at several concurrencies."
    )

    @Option(help: "Comma-separated counts of concurrent proposers.")
    var proposers = "1,16,256"

    @Option(help: "Seconds per measurement.")
    var seconds = 3.0

    @Option(help: "Bytes per proposal.")
    var payloadBytes = 128

    @Option(help: "Where the log stores go (a fresh temporary directory by default; removed afterwards).")
    var directory: String?

    func run() throws {
        let counts = proposers.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ $0 > 0 }), seconds > 0 else {
            throw ValidationError("--proposers needs positive counts like 1,16,256 and --seconds must be positive")
        }
        let root = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("periscope-raft-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { if directory == nil { try? FileManager.default.removeItem(atPath: root) } }

        let baseline = try measureOneFsyncPerEntry(directory: "\(root)/baseline")
        print("baseline: one RocksDB put + fsync per entry, \(payloadBytes)-byte entries: \(format(baseline)) entries/s")
        print("proposers  committed/s  fsyncs/entry (3 replicas)  vs baseline")
        for count in counts {
            let benchmark = try DurableGroupBenchmark(directory: "\(root)/group-\(count)", payloadBytes: payloadBytes)
            let result = try benchmark.run(proposers: count, seconds: seconds)
            print(String(format: "%9d  %11.0f  %25.3f  %10.2fx", count, result.committedPerSecond, result.fsyncsPerEntry,
                         result.committedPerSecond / baseline))
        }
    }

    private func measureOneFsyncPerEntry(directory: String) throws -> Double {
        let database = try Database.open(at: directory)
        defer { try? database.close() }
        let value = [UInt8](repeating: 0x61, count: payloadBytes)
        let started = Date()
        var written = 0
        while Date().timeIntervalSince(started) < seconds {
            try database.put(Array("entry-\(written)".utf8), value, options: .durable)
            written += 1
        }
        return Double(written) / Date().timeIntervalSince(started)
    }

    private func format(_ rate: Double) -> String { String(format: "%.0f", rate) }
}
