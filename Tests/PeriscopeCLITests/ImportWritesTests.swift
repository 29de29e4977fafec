import Foundation
import PeriscopeAPI
import PeriscopeClient
import PeriscopeModel
import PeriscopeTestSupport
import Testing

/// `AdminService.ImportWrites` and `ChecksumExecutions` on a real node: imports only into a
/// namespace marked as a migration's target, ordered by the source's log; finishing the
/// import lets the engine's writes win again; the checksums are the fingerprints' sums.
@Suite struct ImportWritesTests {
    static func execution(_ workflowId: String, version: Int64, status: Periscope_V1_ExecutionStatus = .running) -> Execution {
        .with {
            $0.workflowID = workflowId
            $0.runID = "run-" + workflowId
            $0.version = version
            $0.workflowType = "t"
            $0.taskQueue = "q"
            $0.status = status
            $0.startTime = .with { $0.seconds = 1_790_000_000 + Int64(workflowId.utf8.count) }
            $0.executionTime = $0.startTime
            if status != .running { $0.closeTime = .with { $0.seconds = 1_790_000_500 } }
        }
    }

    static func imported(_ execution: Execution, order: Int64) -> Periscope_V1_ImportedWrite {
        .with { $0.upsert = execution; $0.sourceOrder = order }
    }

    @Test func importsNeedAMigrationTargetAndFinishingLetsTheEngineWin() async throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let node = try await NodeProcess.start(data: directory + "/data", extra: ["--shards", "2"])
        defer { node.killMinusNine() }
        let client = try await PeriscopeClient.connect(to: node.address)
        defer { Task { await client.close() } }
        _ = try await client.createNamespace("orders", id: "ns-a")

        // Not a migration's target: refused, nothing written.
        do {
            _ = try await client.importWrites(namespace: "orders", [Self.imported(Self.execution("a", version: 1), order: 10)])
            Issue.record("ImportWrites into a namespace not marked importing was accepted")
        } catch {
            #expect(error.code == .failedPrecondition && error.message.contains("not the target of a migration"), "\(error)")
        }
        #expect(try await client.count(namespace: "orders", consistency: .strong).count == 0)

        let marked = try await client.setImporting(namespace: "orders", true)
        #expect(marked.importing)
        // Ordered by the source's log: the later order wins even with a lower version.
        let first = try await client.importWrites(namespace: "orders", [Self.imported(Self.execution("a", version: 9), order: 2_000),
                                                                      Self.imported(Self.execution("a", version: 5, status: .completed), order: 3_000)])
        #expect(first.outcomes.allSatisfy { $0.code == 0 }, "\(first.outcomes)")
        var stored = try #require(try await client.execution(namespace: "orders", workflowID: "a", runID: "run-a", consistency: .strong))
        #expect(stored.status == .completed && stored.version == 5)
        // An order that does not fit a failover version is refused by position, the rest taken.
        let mixed = try await client.importWrites(namespace: "orders", [Self.imported(Self.execution("b", version: 1), order: Int64.max),
                                                                      Self.imported(Self.execution("c", version: 1), order: 10)])
        #expect(mixed.outcomes[0].code != 0 && mixed.outcomes[0].message.contains("source_order"), "\(mixed.outcomes[0])")
        #expect(mixed.outcomes[1].code == 0)

        // While importing, the engine's own write (under the namespace's failover version) loses.
        let engine = try await client.upsert(namespace: "orders", Self.execution("a", version: 100))
        #expect(!engine.applied)
        // Finished above the largest order imported: the engine's writes win from now on.
        let finished = try await client.setImporting(namespace: "orders", false, importedOrderMax: 3_000)
        #expect(!finished.importing && finished.failoverVersion > 3_000 * 100, "\(finished.failoverVersion)")
        let after = try await client.upsert(namespace: "orders", Self.execution("a", version: 6))
        #expect(after.applied)
        stored = try #require(try await client.execution(namespace: "orders", workflowID: "a", runID: "run-a", consistency: .strong))
        #expect(stored.version == 6 && stored.status == .running)
        // Still imported after the finish (a capture following the source through the write
        // cutover): ordered with the engine's writes by version, as the source's guard orders
        // them, whatever its order; a delete stays below the engine's writes.
        let late = try await client.importWrites(namespace: "orders", [Self.imported(Self.execution("a", version: 5), order: 90_000),
                                                                     Self.imported(Self.execution("d", version: 1), order: 90_001),
                                                                     .with { $0.delete = .with { $0.workflowID = "a"; $0.runID = "run-a" }; $0.sourceOrder = 90_002 }])
        #expect(late.outcomes.allSatisfy { $0.code == 0 }, "\(late.outcomes)")
        stored = try #require(try await client.execution(namespace: "orders", workflowID: "a", runID: "run-a", consistency: .strong))
        #expect(stored.version == 6, "an older import after the finish, or its delete, overwrote the engine's write")
        #expect(try await client.execution(namespace: "orders", workflowID: "d", runID: "run-d", consistency: .strong) != nil)
        let newer = try await client.importWrites(namespace: "orders", [Self.imported(Self.execution("a", version: 7, status: .failed), order: 90_003)])
        #expect(newer.outcomes.allSatisfy { $0.code == 0 })
        stored = try #require(try await client.execution(namespace: "orders", workflowID: "a", runID: "run-a", consistency: .strong))
        #expect(stored.version == 7 && stored.status == .failed, "a newer version imported after the finish lost to an older one")
    }

    @Test func checksumsAreTheSumsOfTheFingerprintsByBucket() async throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let node = try await NodeProcess.start(data: directory + "/data", extra: ["--shards", "3"])
        defer { node.killMinusNine() }
        let client = try await PeriscopeClient.connect(to: node.address)
        defer { Task { await client.close() } }
        _ = try await client.addSearchAttributes(namespace: "default", ["Tier": .keyword, "Score": .double])
        var records: [VisibilityRecord] = []
        for number in 0..<60 {
            var execution = Self.execution("w\(number)", version: Int64(number))
            execution.startTime = .with { $0.seconds = 1_790_000_000 + Int64(number * 30) }
            execution.searchAttributes = ["Tier": .with { $0.keyword = "k\(number % 4)" },
                                          "Score": .with { $0.double = Double(number) / 3 }]
            execution.memo = Data([UInt8(number), 1, 2])
            // A workflow-backed schedule (another division): counted like any execution.
            if number == 7 { execution.searchAttributes["TemporalNamespaceDivision"] = .with { $0.keyword = "TemporalScheduler" } }
            _ = try await client.recordStarted(namespace: "default", execution)
            records.append(try RecordWire.record(execution, namespaceId: "default"))
        }
        let from = Timestamp(secondsSinceEpoch: 1_790_000_000), to = Timestamp(secondsSinceEpoch: 1_790_001_800)
        let sums = try await client.checksumExecutions(namespace: "default", from: from, to: to, bucketSeconds: 600, listing: 100)
        var expected: [Int64: (count: Int64, sum: UInt64)] = [:]
        for record in records {
            let bucket = (record.startTime.nanosecondsSinceEpoch - from.nanosecondsSinceEpoch) / 600_000_000_000
            expected[bucket, default: (0, 0)].count += 1
            expected[bucket, default: (0, 0)].sum &+= ExecutionFingerprint.fingerprint(of: record)
        }
        #expect(sums.buckets.count == 3)
        for bucket in sums.buckets {
            let number = (bucket.start.seconds - 1_790_000_000) / 600
            #expect(bucket.count == expected[number]?.count && bucket.checksum == expected[number]?.sum, "bucket \(number)")
        }
        #expect(sums.executions.count == 60 && !sums.executionsTruncated)
        let truncated = try await client.checksumExecutions(namespace: "default", from: from, to: to, bucketSeconds: 600, listing: 10)
        #expect(truncated.executions.count == 10 && truncated.executionsTruncated)

        for (badFrom, badTo, width, why) in [(to, from, Int64(60), "not before"), (from, to, Int64(0), "bucket_seconds"),
                                             (Timestamp(secondsSinceEpoch: 0), to, Int64(1), "buckets")] {
            do {
                _ = try await client.checksumExecutions(namespace: "default", from: badFrom, to: badTo, bucketSeconds: width)
                Issue.record("a checksum request with bad \(why) was accepted")
            } catch {
                #expect(error.code == .invalidArgument && error.message.contains(why), "\(error)")
            }
        }
    }
}
