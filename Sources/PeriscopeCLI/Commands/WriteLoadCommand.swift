import ArgumentParser
import Foundation
import PeriscopeAPI
import PeriscopeClient
import SwiftProtobuf

extension WriteCommand {
    /// Loads a JSON-lines file of writes in batches, several batches in flight.
    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a JSON-lines file of writes, with a progress bar.",
            discussion: """
                Each line is a periscope.v1.ExecutionWrite in the API's JSON mapping, e.g. \
                {"started": {"namespace": "default", "execution": {"workflowId": "w1", "runId": "r1", \
                "workflowType": "order", "taskQueue": "q", "status": "EXECUTION_STATUS_RUNNING", \
                "startTime": "2026-11-25T10:00:00Z"}}}. A write without a namespace gets --namespace. \
                A malformed line stops the load before anything after it is sent, naming the line; writes \
                the server refuses are counted and the first few printed. Exit status 2 if any was refused.
                """
        )
        @OptionGroup var client: ClientOptions
        @Argument(help: "The file (- for standard input).") var file: String
        @Option(help: "Namespace for writes that name none.") var namespace = "default"
        @Option(help: "Writes per WriteBatch call.") var batch = 500
        @Option(help: "Batches in flight at once.") var concurrency = 4

        func validate() throws {
            guard (1...1_000).contains(batch) else { throw ArgumentParser.ValidationError("--batch must be 1 ... 1000") }
            guard (1...64).contains(concurrency) else { throw ArgumentParser.ValidationError("--concurrency must be 1 ... 64") }
        }

        func run() async throws {
            let handle: FileHandle
            if file == "-" {
                handle = .standardInput
            } else {
                guard let opened = FileHandle(forReadingAtPath: file) else { throw ArgumentParser.ValidationError("cannot open \(file)") }
                handle = opened
            }
            let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
            var writes: [Periscope_V1_ExecutionWrite] = []
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard !trimmed.isEmpty else { continue }
                do {
                    var write = try Periscope_V1_ExecutionWrite(jsonString: trimmed)
                    switch write.write {
                    case .started(var request)?: if request.namespace.isEmpty { request.namespace = namespace; write.started = request }
                    case .closed(var request)?: if request.namespace.isEmpty { request.namespace = namespace; write.closed = request }
                    case .upsert(var request)?: if request.namespace.isEmpty { request.namespace = namespace; write.upsert = request }
                    case .delete(var request)?: if request.namespace.isEmpty { request.namespace = namespace; write.delete = request }
                    case nil: throw ArgumentParser.ValidationError("sets none of started, closed, upsert, delete")
                    }
                    writes.append(write)
                } catch {
                    throw ArgumentParser.ValidationError("\(file):\(number + 1): not an ExecutionWrite: \(error)")
                }
            }
            let batches = stride(from: 0, to: writes.count, by: batch).map { Array(writes[$0..<min($0 + batch, writes.count)]) }
            let progress = ProgressBar(total: writes.count)
            let started = ContinuousClock.now
            try await reportingFailures {
                let (applied, refused, firstRefusals) = try await client.withClient { client in
                    try await withThrowingTaskGroup(of: Periscope_V1_WriteBatchResponse.self) { group in
                        var next = 0
                        var applied = 0, refused = 0
                        var firstRefusals: [String] = []
                        func collect(_ response: Periscope_V1_WriteBatchResponse) {
                            for outcome in response.outcomes {
                                if outcome.code == 0 { applied += outcome.applied ? 1 : 0 } else {
                                    refused += 1
                                    if firstRefusals.count < 5 { firstRefusals.append(outcome.message) }
                                }
                            }
                            progress.advance(by: response.outcomes.count)
                        }
                        for _ in 0..<min(concurrency, batches.count) {
                            let writes = batches[next]
                            group.addTask { try await client.writeBatch(writes) }
                            next += 1
                        }
                        while let response = try await group.next() {
                            collect(response)
                            if next < batches.count {
                                let writes = batches[next]
                                group.addTask { try await client.writeBatch(writes) }
                                next += 1
                            }
                        }
                        return (applied, refused, firstRefusals)
                    }
                }
                progress.finish()
                let seconds = (ContinuousClock.now - started).seconds
                print("loaded \(writes.count) writes in \(String(format: "%.1f", seconds)) s "
                    + "(\(Int(Double(writes.count) / max(seconds, 0.001))) writes/s): \(applied) applied, "
                    + "\(writes.count - applied - refused) ignored (not newer), \(refused) refused")
                for message in firstRefusals { print("  refused: \(message)") }
                if refused > 0 { throw ExitCode(2) }
            }
        }
    }
}

/// A progress bar on standard error when it is a terminal; nothing otherwise.
final class ProgressBar: @unchecked Sendable {
    private let total: Int
    private var done = 0
    private let lock = NSLock()
    private let enabled = isatty(STDERR_FILENO) == 1

    init(total: Int) { self.total = total }

    func advance(by count: Int) {
        guard enabled else { return }
        lock.withLock {
            done += count
            let width = 40
            let filled = total == 0 ? width : width * done / total
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total)".utf8))
        }
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
