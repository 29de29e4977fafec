import Foundation
import PeriscopeAPI
@testable import PeriscopeClient
import PeriscopeModel
@testable import PeriscopeNode
import PeriscopeQuery
import PeriscopeTestSupport
import Testing

/// A node as a child process, used through the client library over real sockets; every
/// answer checked against the in-memory oracle (`QueryPlan.matches` / `precedes`).
@Suite(.serialized) struct NodeEndToEndTests {
    static let customAttributes: [String: SearchAttributeType] = ["CustomerId": .keyword, "Amount": .int]

    /// 10,000 executions, some closed, some upserted, a few deleted: their final records
    /// and the writes that produce them.
    struct Workload {
        var writes: [Periscope_V1_ExecutionWrite] = []
        var finals: [String: Execution?] = [:]  // workflow id → final execution (nil: deleted)

        init(count: Int, namespace: String) {
            var random = SeededRandom(seed: 7)
            let origin: Int64 = 1_790_000_000
            for number in 0..<count {
                var execution = Execution.with {
                    $0.workflowID = "wf-\(number)"
                    $0.runID = "run-\(number % 7)"
                    $0.version = 1
                    $0.workflowType = "type-\(Int.random(in: 0..<5, using: &random))"
                    $0.taskQueue = "queue-\(number % 3)"
                    $0.status = .running
                    $0.startTime = .with { $0.seconds = origin + Int64(number) * 7 + Int64.random(in: 0..<5, using: &random) }
                    if Int.random(in: 0..<10, using: &random) < 8 {
                        $0.searchAttributes["CustomerId"] = .with { $0.keyword = "c-\(Int.random(in: 0..<20, using: &random))" }
                    }
                    if Int.random(in: 0..<10, using: &random) < 6 {
                        $0.searchAttributes["Amount"] = .with { $0.int = Int64.random(in: 0..<1_000, using: &random) }
                    }
                }
                writes.append(.with { $0.started = .with { $0.namespace = namespace; $0.execution = execution } })
                let roll = Int.random(in: 0..<100, using: &random)
                if roll < 60 {
                    execution.version = 2
                    execution.status = [.completed, .failed, .timedOut][number % 3]
                    execution.closeTime = .with { $0.seconds = execution.startTime.seconds + Int64.random(in: 1..<86_400 * 3, using: &random) }
                    writes.append(.with { $0.closed = .with { $0.namespace = namespace; $0.execution = execution } })
                } else if roll < 75 {
                    execution.version = 3
                    execution.searchAttributes["CustomerId"] = .with { $0.keyword = "upserted" }
                    writes.append(.with { $0.upsert = .with { $0.namespace = namespace; $0.execution = execution } })
                } else if roll < 77 {
                    writes.append(.with { $0.delete = .with {
                        $0.namespace = namespace; $0.workflowID = execution.workflowID; $0.runID = execution.runID; $0.version = 9
                    } })
                    finals[execution.workflowID] = .some(nil)
                    continue
                }
                finals[execution.workflowID] = execution
            }
        }

        func records(namespaceId: String) throws -> [VisibilityRecord] {
            try finals.values.compactMap { $0 }.map { try WireConversions.record($0, namespaceId: namespaceId) }
        }
    }

    @Test func tenThousandWritesMatchTheOracle() async throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let node = try await NodeProcess.start(data: directory + "/data", extra: ["--shards", "4"])
        let client = try await PeriscopeClient.connect(to: node.address)
        let created = try await client.createNamespace("oracle")
        _ = try await client.addSearchAttributes(namespace: "oracle", ["CustomerId": .keyword, "Amount": .int])

        let workload = Workload(count: 10_000, namespace: "oracle")
        var token: [UInt8] = []
        for start in stride(from: 0, to: workload.writes.count, by: 500) {
            let batch = Array(workload.writes[start..<min(start + 500, workload.writes.count)])
            let response = try await client.writeBatch(batch)
            #expect(response.outcomes.count == batch.count)
            let refused = response.outcomes.filter { $0.code != 0 }
            #expect(refused.isEmpty, "refused: \(refused.prefix(3).map(\.message))")
            token = Array(response.consistencyToken)
        }
        // A retried write changes nothing (idempotent by version).
        let again = try await client.recordStarted(namespace: "oracle", workload.writes[0].started.execution)
        #expect(!again.applied)

        let schema = try NamespaceSchema(customAttributes: Self.customAttributes)
        let records = try workload.records(namespaceId: created.id)
        let queries: [(String, Int)] = [
            ("", 137),
            ("WorkflowType = 'type-2' AND ExecutionStatus = 'Completed'", 100),
            ("CustomerId = 'c-7' ORDER BY Amount DESC", 50),
            ("Amount >= 500 AND TaskQueue != 'queue-1'", 333),
            ("ExecutionStatus = 'Running' ORDER BY StartTime", 250),
        ]
        for (text, pageSize) in queries {
            let plan = try Query.compile(text, schema: schema, context: .list).plan
            let expected = records.filter(plan.matches).sorted(by: plan.precedes).map(\.key.workflowId)
            var seen: [String] = []
            var pageToken: [UInt8]?
            var pages = 0
            repeat {
                let page = try await client.list(namespace: "oracle", query: text, pageSize: pageSize, pageToken: pageToken,
                                                 consistency: pageToken == nil ? .readYourWrites(token) : .eventual)
                #expect(page.executions.count <= pageSize)
                seen += page.executions.map(\.workflowID)
                pageToken = page.nextPageToken
                pages += 1
            } while pageToken != nil && pages < 1_000
            let firstDifference = Array(zip(seen, expected)).firstIndex { $0.0 != $0.1 } ?? min(seen.count, expected.count)
            let same = seen == expected
            #expect(same, "query \(text): \(seen.count) listed, \(expected.count) expected; they differ from position \(firstDifference)")
        }
        // Every listing above ran to its end: no point in time is left holding a snapshot.
        let metrics = try await runTool("/usr/bin/curl", ["-s", "--http2-prior-knowledge", "http://\(node.address)/metrics"])
        let held = metrics.stdout.split(separator: "\n").filter { $0.hasPrefix("periscope_page_points_in_time{") }
        #expect(held.count == 4 && held.allSatisfy { $0.hasSuffix(" 0.0") }, "\(held)")
        // The AsyncSequence gives the same as paging by hand.
        var streamed = 0
        for try await _ in client.executions(namespace: "oracle", query: "ExecutionStatus = 'Failed'", pageSize: 211) { streamed += 1 }
        #expect(streamed == records.filter { $0.status == .failed }.count)

        for text in ["", "ExecutionStatus = 'Running'", "GROUP BY WorkflowType", "CustomerId = 'upserted' GROUP BY ExecutionStatus"] {
            let plan = try Query.compile(text, schema: schema, context: .count).plan
            let expected = try plan.count(records)
            let answer = try await client.count(namespace: "oracle", query: text)
            #expect(answer.count == Int64(expected.total), "count \(text)")
            if plan.groupBy != nil {
                let groups = Dictionary(uniqueKeysWithValues: answer.groups.map { group in
                    (group.values.first.map { Self.text(of: $0) } ?? "", Int(group.count))
                })
                let wanted = Dictionary(uniqueKeysWithValues: expected.groups.map { group in
                    (group.value.map { Self.text(of: $0) } ?? "", group.count)
                })
                #expect(groups == wanted, "groups of \(text)")
            }
        }
        let deleted = workload.finals.first { $0.value == nil }!.key
        #expect(try await client.execution(namespace: "oracle", workflowID: deleted, runID: "run-\(Int(deleted.dropFirst(3))! % 7)") == nil)

        await client.close()
        #expect(try await node.terminate() == 0)
    }

    @Test func badInputGetsAPreciseStatusAndWritesNothing() async throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let node = try await NodeProcess.start(data: directory + "/data", extra: ["--shards", "2"])
        let client = try await PeriscopeClient.connect(to: node.address)
        _ = try await client.addSearchAttributes(namespace: "default", ["Amount": .int])
        func execution(_ id: String, _ attributes: [String: Periscope_V1_SearchAttributeValue] = [:]) -> Execution {
            .with {
                $0.workflowID = id; $0.runID = "r"; $0.workflowType = "t"; $0.taskQueue = "q"; $0.status = .running
                $0.startTime = .with { $0.seconds = 1_790_000_000 }
                $0.searchAttributes = attributes
            }
        }
        func refusal(_ body: () async throws -> Void) async -> PeriscopeError? {
            do { try await body(); return nil } catch { return error as? PeriscopeError }
        }
        let unknownNamespace = await refusal { _ = try await client.recordStarted(namespace: "nope", execution("a")) }
        #expect(unknownNamespace?.code == .notFound && unknownNamespace?.message.contains("namespace nope does not exist") == true)
        let unregistered = await refusal { _ = try await client.recordStarted(namespace: "default", execution("b", ["Color": .with { $0.keyword = "red" }])) }
        #expect(unregistered?.code == .invalidArgument && unregistered?.message.contains("Color") == true, "\(String(describing: unregistered))")
        let wrongType = await refusal { _ = try await client.recordStarted(namespace: "default", execution("c", ["Amount": .with { $0.keyword = "ten" }])) }
        #expect(wrongType?.code == .invalidArgument && wrongType?.message.contains("Amount") == true, "\(String(describing: wrongType))")
        let oversized = await refusal {
            _ = try await client.recordStarted(namespace: "default", execution("d", ["CustomStringField": .with { $0.text = String(repeating: "x", count: 5_000) }]))
        }
        #expect(oversized?.code == .invalidArgument, "\(String(describing: oversized))")
        let noStatus = await refusal { var bad = execution("e"); bad.status = .unspecified; _ = try await client.recordStarted(namespace: "default", bad) }
        #expect(noStatus?.code == .invalidArgument && noStatus?.message.contains("status") == true)
        let malformed = await refusal { _ = try await client.list(namespace: "default", query: "WorkflowType = ") }
        #expect(malformed?.code == .invalidArgument && malformed?.message.contains("invalid query") == true)
        let longID = await refusal { _ = try await client.createNamespace("long-id", id: String(repeating: "i", count: 300)) }
        #expect(longID?.code == .invalidArgument && longID?.message.contains("namespace id of 300 bytes") == true, "\(String(describing: longID))")
        let badName = await refusal { _ = try await client.createNamespace("-dash") }
        #expect(badName?.code == .invalidArgument && badName?.message.contains("must start with a letter or digit") == true)
        let unknownInQuery = await refusal { _ = try await client.list(namespace: "default", query: "Color = 'red'") }
        #expect(unknownInQuery?.message.contains("'Color' is not a valid search attribute") == true)

        // A token from a real listing, altered by one bit, is refused as forged.
        for number in 0..<30 { _ = try await client.recordStarted(namespace: "default", execution("w\(number)")) }
        let page = try await client.list(namespace: "default", pageSize: 10, consistency: .strong)
        var forged = try #require(page.nextPageToken)
        forged[forged.count / 2] ^= 1
        let forgedError = await refusal { _ = try await client.list(namespace: "default", pageSize: 10, pageToken: forged) }
        #expect(forgedError?.code == .invalidArgument && forgedError?.message.contains("signature") == true, "\(String(describing: forgedError))")
        let otherQuery = await refusal { _ = try await client.list(namespace: "default", query: "WorkflowType = 't'", pageSize: 10, pageToken: page.nextPageToken) }
        #expect(otherQuery?.message.contains("another query") == true)

        // Garbage bodies over the wire: JSON that is not the message, bytes that are not protobuf.
        let garbage = try await runTool("/usr/bin/curl", ["-s", "--http2-prior-knowledge", "-H", "content-type: application/json",
                                                          "-d", "{\"namespace\": ", "http://\(node.address)/periscope.v1.VisibilityService/RecordExecutionStarted"])
        #expect(garbage.stdout.contains("INVALID_ARGUMENT"), "\(garbage.stdout)")
        let binary = try await runTool("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--http2-prior-knowledge",
                                                         "-H", "content-type: application/grpc", "--data-binary", "\u{0}\u{0}\u{0}\u{0}\u{5}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}",
                                                         "http://\(node.address)/periscope.v1.VisibilityService/RecordExecutionStarted"])
        #expect(binary.stdout == "200", "gRPC answers errors in trailers with HTTP 200")
        let count = try await client.count(namespace: "default", consistency: .strong)
        #expect(count.count == 30, "only the 30 valid writes are stored")
        let metrics = try await runTool("/usr/bin/curl", ["-s", "--http2-prior-knowledge", "http://\(node.address)/metrics"])
        #expect(metrics.stdout.contains("periscope_rpc_duration_seconds_bucket") && metrics.stdout.contains("code=\"INVALID_ARGUMENT\""))
        #expect(metrics.stdout.contains("periscope_index_lag_entries{shard=\"1\"}"))
        let status = try await client.clusterStatus()
        #expect(status.shardCount == 2 && status.nodes.map(\.address) == [node.address] && status.unavailableShards.isEmpty, "\(status)")
        let map = try await client.shardMap()
        #expect(map.shards.count == 2 && map.shards.allSatisfy { $0.leaderNodeID == "1" })
        let badAddress = await refusal { _ = try await client.addNode(id: "2", address: "nowhere") }
        #expect(badAddress?.code == .invalidArgument && badAddress?.message.contains("not host:port") == true, "\(String(describing: badAddress))")
        // A deployment of one region: there is no other region to fail over to.
        let unknownRegion = await refusal { _ = try await client.failover(namespace: "default", to: "elsewhere") }
        #expect(unknownRegion?.code == .invalidArgument && unknownRegion?.message.contains("region 'elsewhere' is not in the deployment") == true,
                "\(String(describing: unknownRegion))")
        let placement = try await client.namespacePlacement("default")
        #expect(placement.homeRegion == "local" && placement.regions == ["local"] && placement.failoverVersion == 0)
        await client.close()
        #expect(try await node.terminate() == 0)
    }

    static func text(of value: Periscope_V1_SearchAttributeValue) -> String {
        switch value.value {
        case .keyword(let text)?, .text(let text)?: text
        case .int(let number)?: String(number)
        case .bool(let flag)?: String(flag)
        default: "\(value)"
        }
    }

    static func text(of value: QueryValue) -> String {
        switch value {
        case .string(let text): text
        case .int(let number): String(number)
        case .bool(let flag): String(flag)
        case .status(let status): status.name
        default: "\(value)"
        }
    }
}
