import ArgumentParser
import Foundation
import PeriscopeAPI
import PeriscopeClient
import PeriscopeModel
import PeriscopeNode
import SwiftProtobuf

struct WriteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write",
        abstract: "Record executions: start, close, upsert or delete one, or load a JSON-lines file.",
        discussion: "Writes are idempotent by --version (default: now in nanoseconds): a write whose version is not newer "
            + "than the stored one is acknowledged and ignored (\"applied: false\"). Exit status: 0 written (or ignored as not "
            + "newer); 2 refused: an invalid write, or one the node cannot take now (resources exhausted, a region that is "
            + "not the namespace's home): the message says what and whether a retry can succeed; 3 unknown namespace; 69 no answer within --timeout (the write may or may "
            + "not have been applied: retrying it is safe).",
        subcommands: [Start.self, Close.self, Upsert.self, Delete.self, Load.self]
    )

    /// The fields of one execution, from options.
    struct ExecutionOptions: ParsableArguments {
        @Option(help: "The namespace.") var namespace = "default"
        @Option(help: "WorkflowId.") var workflowId: String
        @Option(help: "RunId.") var runId: String
        @Option(help: "WorkflowType.") var type: String?
        @Option(help: "TaskQueue.") var taskQueue: String?
        @Option(help: "StartTime, RFC 3339 (default: now, or the stored one).") var startTime: String?
        @Option(help: "The write's version (Temporal's task id); default: now in nanoseconds.") var version: Int64?
        @Option(name: .customLong("attr"), help: "A search attribute NAME=VALUE, typed by the namespace's schema; repeatable.")
        var attributes: [String] = []
        @Flag(help: "Print JSON.") var json = false

        var defaultVersion: Int64 { version ?? nowAsVersion() }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record that an execution started (Running).")
        @OptionGroup var client: ClientOptions
        @OptionGroup var execution: ExecutionOptions

        func run() async throws {
            try await reportingFailures {
                try await client.withClient { client in
                    var record = try await execution.build(client: client, stored: nil)
                    record.status = .running
                    report(try await client.recordStarted(namespace: execution.namespace, record), json: execution.json)
                }
            }
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record that an execution closed; fields not given are taken from the stored execution.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var execution: ExecutionOptions
        @Option(help: "Completed, Failed, Canceled, Terminated, ContinuedAsNew or TimedOut.") var status = "Completed"
        @Option(help: "CloseTime, RFC 3339 (default: now).") var closeTime: String?

        func run() async throws {
            guard let closed = ClosedStatus.byName[status.lowercased()] else {
                throw ArgumentParser.ValidationError("--status '\(status)' is not one of Completed, Failed, Canceled, Terminated, ContinuedAsNew, TimedOut")
            }
            try await reportingFailures {
                try await client.withClient { client in
                    let stored = try await client.execution(namespace: execution.namespace, workflowID: execution.workflowId,
                                                            runID: execution.runId, consistency: .strong)
                    var record = try await execution.build(client: client, stored: stored)
                    record.status = closed
                    let close = try closeTime.map { try parseTime($0, option: "--close-time") } ?? Google_Protobuf_Timestamp(date: Date())
                    record.closeTime = close
                    let nanos = try WireConversions.timestamp(close, field: "close_time").nanosecondsSinceEpoch
                        - WireConversions.timestamp(record.startTime, field: "start_time").nanosecondsSinceEpoch
                    record.executionDuration = WireConversions.wireDuration(nanoseconds: max(0, nanos))
                    report(try await client.recordClosed(namespace: execution.namespace, record), json: execution.json)
                }
            }
        }
    }

    struct Upsert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an execution's search attributes; fields not given are taken from the stored execution.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var execution: ExecutionOptions

        func run() async throws {
            try await reportingFailures {
                try await client.withClient { client in
                    let stored = try await client.execution(namespace: execution.namespace, workflowID: execution.workflowId,
                                                            runID: execution.runId, consistency: .strong)
                    let record = try await execution.build(client: client, stored: stored)
                    report(try await client.upsert(namespace: execution.namespace, record), json: execution.json)
                }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an execution (a tombstone at --version stops older writes).")
        @OptionGroup var client: ClientOptions
        @Option(help: "The namespace.") var namespace = "default"
        @Option(help: "WorkflowId.") var workflowId: String
        @Option(help: "RunId.") var runId: String
        @Option(help: "The delete's version; default: now in nanoseconds.") var version: Int64?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reportingFailures {
                let result = try await client.withClient {
                    try await $0.delete(namespace: namespace, workflowID: workflowId, runID: runId,
                                        version: version ?? nowAsVersion())
                }
                report(result, json: json)
            }
        }
    }
}

extension WriteCommand.ExecutionOptions {
    /// The execution to write: `stored` (if any) with the options given laid over it.
    func build(client: PeriscopeClient, stored: Execution?) async throws -> Execution {
        var record = stored ?? Execution()
        record.workflowID = workflowId
        record.runID = runId
        record.version = defaultVersion
        if let type { record.workflowType = type }
        if let taskQueue { record.taskQueue = taskQueue }
        if record.taskQueue.isEmpty { record.taskQueue = "default" }
        if let startTime {
            record.startTime = try parseTime(startTime, option: "--start-time")
        } else if stored == nil {
            record.startTime = Google_Protobuf_Timestamp(date: Date())
        }
        guard !record.workflowType.isEmpty else {
            throw ArgumentParser.ValidationError("--type is required (no stored execution \(workflowId)/\(runId) to take it from)")
        }
        if !attributes.isEmpty {
            let schema = try await client.searchAttributes(namespace: namespace)
            for pair in attributes {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw ArgumentParser.ValidationError("--attr '\(pair)' is not NAME=VALUE") }
                guard let type = schema.custom[parts[0]] ?? schema.system[parts[0]] else {
                    throw ArgumentParser.ValidationError("--attr \(parts[0]): namespace \(namespace) has no such search attribute "
                        + "(add it with `periscope search-attribute add --namespace \(namespace) \(parts[0])=Keyword`)")
                }
                record.searchAttributes[parts[0]] = try attributeValue(parts[1], type: type, name: parts[0])
            }
        }
        return record
    }
}

/// The default version of a write: now, in nanoseconds (later writes win).
func nowAsVersion() -> Int64 { Int64(Date().timeIntervalSince1970 * 1e9) }

func attributeValue(_ text: String, type: IndexedValueType, name: String) throws -> Periscope_V1_SearchAttributeValue {
    func bad(_ what: String) -> ArgumentParser.ValidationError { ArgumentParser.ValidationError("--attr \(name)=\(text): not \(what)") }
    switch type {
    case .text: return .with { $0.text = text }
    case .keyword: return .with { $0.keyword = text }
    case .int:
        guard let value = Int64(text) else { throw bad("an Int") }
        return .with { $0.int = value }
    case .double:
        guard let value = Double(text) else { throw bad("a Double") }
        return .with { $0.double = value }
    case .bool:
        guard let value = Bool(text.lowercased()) else { throw bad("a Bool (true or false)") }
        return .with { $0.bool = value }
    case .datetime:
        let time = try parseTime(text, option: "--attr \(name)")
        return .with { $0.datetime = time }
    case .keywordList: return .with { $0.keywordList = .with { $0.values = text.split(separator: ",").map(String.init) } }
    case .unspecified, .UNRECOGNIZED: throw bad("a value of a known type")
    }
}

func parseTime(_ text: String, option: String) throws -> Google_Protobuf_Timestamp {
    let time: Timestamp
    do {
        time = try Timestamp(rfc3339: text)
    } catch {
        throw ArgumentParser.ValidationError("\(option) '\(text)' is not an RFC 3339 time like 2026-11-25T10:00:00Z: \(error)")
    }
    return WireConversions.wire(time)
}

private func report(_ result: WriteResult, json: Bool) {
    let token = Data(result.consistencyToken).base64EncodedString()
    if json {
        print("{\"applied\":\(result.applied),\"consistencyToken\":\"\(token)\"}")
    } else {
        print(result.applied ? "applied" : "ignored: the store holds this version or a newer one")
    }
}

enum ClosedStatus {
    static let byName: [String: Periscope_V1_ExecutionStatus] = [
        "completed": .completed, "failed": .failed, "canceled": .canceled, "terminated": .terminated,
        "continuedasnew": .continuedAsNew, "timedout": .timedOut,
    ]
}
