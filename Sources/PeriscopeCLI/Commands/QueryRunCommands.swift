import ArgumentParser
import Foundation
import PeriscopeAPI
import PeriscopeClient
import PeriscopeModel
import PeriscopeNode
import SwiftProtobuf

/// Options shared by list and count.
struct QueryTarget: ParsableArguments {
    @Option(help: "The namespace.") var namespace = "default"
    @Option(help: "strong (default: everything acknowledged so far), eventual (what the indexes hold now), or a base64 token from `write --json`.")
    var consistency = "strong"
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Read every region holding the namespace, each execution once in its newest version (default: the region of the node asked).")
    var federated = false
    @Flag(help: "With --federated: leave out regions that do not answer in time, and name them on standard error.")
    var allowPartial = false

    var scope: QueryScope {
        get throws {
            guard federated || !allowPartial else { throw ArgumentParser.ValidationError("--allow-partial needs --federated") }
            return federated ? .federated(allowPartial: allowPartial) : .local
        }
    }

    /// Says on standard error which regions a partial answer lacks.
    func reportMissing(_ regions: [String]) {
        guard !regions.isEmpty else { return }
        FileHandle.standardError.write(Data("partial result: regions \(regions.joined(separator: ", ")) did not answer\n".utf8))
    }

    var level: Consistency {
        get throws {
            switch consistency {
            case "eventual": return .eventual
            case "strong": return .strong
            default:
                guard let token = Data(base64Encoded: consistency) else {
                    throw ArgumentParser.ValidationError("--consistency must be eventual, strong or a base64 token")
                }
                return .readYourWrites(Array(token))
            }
        }
    }
}

struct QueryListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List executions matching a query, a page at a time.",
        discussion: """
            On a terminal, pages one at a time (Enter: next page, q: stop); otherwise, or with --all, prints \
            every page. Exit status: 0, 2 invalid query, 3 unknown namespace, 69 node unreachable.
            """
    )
    @OptionGroup var client: ClientOptions
    @OptionGroup var target: QueryTarget
    @Argument(help: "The query, e.g. \"WorkflowType = 'order' ORDER BY StartTime DESC\"; empty lists everything.")
    var query = ""
    @Option(help: "Executions per page.") var pageSize = 20
    @Flag(help: "Print every page without asking.") var all = false

    func run() async throws {
        let interactive = !all && !target.json && isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
        let consistency = try target.level
        let scope = try target.scope
        try await reportingFailures {
            try await client.withClient { client in
                var token: [UInt8]?
                var shown = 0
                repeat {
                    let page = try await client.list(namespace: target.namespace, query: query, pageSize: pageSize, pageToken: token,
                                                     consistency: token == nil ? consistency : .eventual, scope: scope)
                    target.reportMissing(page.missingRegions)
                    shown += page.executions.count
                    if target.json {
                        for execution in page.executions { try printJSON(execution) }
                    } else if !page.executions.isEmpty {
                        print(Table(header: ["WORKFLOW ID", "RUN ID", "TYPE", "STATUS", "START TIME", "CLOSE TIME"],
                                    rows: page.executions.map(row)).rendered)
                    }
                    token = page.nextPageToken
                    if token != nil, interactive {
                        print("-- \(shown) shown; Enter for the next page, q to stop --", terminator: "")
                        fflush(nil)
                        if let answer = readLine(), answer.lowercased().hasPrefix("q") { break }
                    }
                } while token != nil
                if !target.json { FileHandle.standardError.write(Data("\(shown) executions\n".utf8)) }
            }
        }
    }

    private func row(_ execution: Execution) -> [String] {
        func time(_ stamp: Google_Protobuf_Timestamp) -> String { rfc3339(stamp) }
        let status = PeriscopeModel.ExecutionStatus(rawValue: Int32(execution.status.rawValue))?.name ?? "\(execution.status.rawValue)"
        return [execution.workflowID, execution.runID, execution.workflowType, status, time(execution.startTime),
                execution.hasCloseTime ? time(execution.closeTime) : ""]
    }
}


struct QueryCountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "count",
        abstract: "Count executions matching a query; with GROUP BY, per value.",
        discussion: "Exit status: 0, 2 invalid query, 3 unknown namespace, 69 node unreachable."
    )
    @OptionGroup var client: ClientOptions
    @OptionGroup var target: QueryTarget
    @Argument(help: "The query, e.g. \"ExecutionStatus = 'Running' GROUP BY WorkflowType\".") var query = ""

    func run() async throws {
        let consistency = try target.level
        let scope = try target.scope
        try await reportingFailures {
            let result = try await client.withClient {
                try await $0.count(namespace: target.namespace, query: query, consistency: consistency, scope: scope)
            }
            target.reportMissing(result.missingRegions)
            if target.json {
                let groups = result.groups.map { group in
                    "{\"value\":\(group.values.first.map { jsonValue($0) } ?? "null"),\"count\":\(group.count)}"
                }
                print("{\"count\":\(result.count),\"groups\":[\(groups.joined(separator: ","))]}")
            } else if result.groups.isEmpty {
                print(result.count)
            } else {
                print(Table(header: ["VALUE", "COUNT"], rows: result.groups.map {
                    [$0.values.first.map { display($0) } ?? "(none)", String($0.count)]
                }).rendered)
                print("total: \(result.count)")
            }
        }
    }
}

struct QueryExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show the plan each shard would use for a query (changes nothing)."
    )
    @OptionGroup var client: ClientOptions
    @Option(help: "The namespace.") var namespace = "default"
    @Argument(help: "The query.") var query = ""

    func run() async throws {
        try await reportingFailures {
            let plans = try await client.withClient { try await $0.explain(namespace: namespace, query: query) }
            print(plans.joined(separator: "\n\n"))
        }
    }
}

private func display(_ value: Periscope_V1_SearchAttributeValue) -> String {
    switch value.value {
    case .text(let text)?, .keyword(let text)?: text
    case .int(let number)?: String(number)
    case .double(let number)?: String(number)
    case .bool(let flag)?: String(flag)
    case .datetime(let time)?: rfc3339(time)
    case .keywordList(let list)?: list.values.joined(separator: ",")
    case nil: "(none)"
    }
}

private func jsonValue(_ value: Periscope_V1_SearchAttributeValue) -> String {
    switch value.value {
    case .int(let number)?: return String(number)
    case .double(let number)?: return String(number)
    case .bool(let flag)?: return String(flag)
    default:
        let text = display(value).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"\(text)\""
    }
}

/// A wire time as RFC 3339 (as the server's conversion reads it; one past what it stores is shown raw).
func rfc3339(_ stamp: Google_Protobuf_Timestamp) -> String {
    (try? WireConversions.timestamp(stamp, field: "time"))?.rfc3339 ?? "\(stamp.seconds)s"
}
