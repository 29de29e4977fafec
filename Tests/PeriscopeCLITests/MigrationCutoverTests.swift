import Foundation
import PeriscopeAPI
import PeriscopeClient
import PeriscopeMigration
import PeriscopeModel
import PeriscopePostgres
import PeriscopeTestSupport
import Testing

/// Cutover and rollback against a real PostgreSQL and a real node, the engine's side played
/// by `MigratingVisibility`: reads and writes follow the switch, a cutover waits for a clean
/// validation, and a rollback after the read cutover and after the write cutover leaves every
/// write in both stores.
@Suite(.serialized) struct MigrationCutoverTests {
    /// An hour before the test: the engine's executions start then, a millisecond apart.
    static let epoch = Timestamp.wallClockNow.nanosecondsSinceEpoch - 3_600_000_000_000

    static func record(_ number: Int, status: ExecutionStatus = .running) -> VisibilityRecord {
        let start = Timestamp(nanosecondsSinceEpoch: epoch + Int64(number) * 1_000_123)
        var record = VisibilityRecord(key: ExecutionKey(namespaceId: "", workflowId: "engine-\(number)", runId: "engine-run-\(number)"),
                                      version: 9_000_000_000_000 + Int64(number) * 10 + (status == .running ? 0 : 1), workflowType: "EngineWorkflow", taskQueue: "engine",
                                      status: status, startTime: start,
                                      closeTime: status == .running ? nil : Timestamp(nanosecondsSinceEpoch: start.nanosecondsSinceEpoch + 30_000_000_000),
                                      memo: [1, 2, UInt8(number % 256)])
        record.searchAttributes = ["Keyword01": SearchAttributeValue.keyword("engine"), "Int01": SearchAttributeValue.int(Int64(number))]
        return record
    }

    @Test func rollbackAfterTheReadAndTheWriteCutoverLosesNothingInEitherStore() async throws {
        let setup = try await MigrationBackfillTests.Setup.start()
        defer { setup.stop() }
        let (server, directory, node) = (setup.server, setup.directory, setup.node)
        let seeded = try await Spawned.periscope("migrate", "source-writer", "--source", server.url, "--rate", "0", "--duration", "2",
                                                 "--namespace-ids", "ns-a,ns-b", "--seed", "31")
        #expect(seeded.status == 0, "\(seeded.stderr)")
        let started = try await Spawned.periscope("migrate", "start", "--address", node.address, "--source", server.url, "--name", "cut",
                                                  "--namespace", "orders=ns-a", "--namespace", "billing=ns-b")
        #expect(started.status == 0, "\(started.stderr)")
        let capture = try Spawned.start(CLITests.binary, ["migrate", "capture", "--address", node.address, "--source", server.url, "--name", "cut",
                                                          "--metrics-file", directory + "/capture.prom"], output: directory + "/capture.log")
        defer { kill(capture.pid, SIGKILL) }  // a no-op once stopped below (reaped, its pid not reused this fast)
        let client = try await PeriscopeClient.connect(to: node.address)
        defer { Task { await client.close() } }
        let engine = MigratingVisibility(periscope: client, source: server.url, migration: "cut", refreshInterval: .milliseconds(50))
        func migrate(_ arguments: String...) async throws -> CLITests.Outcome {
            try await Spawned.run(CLITests.binary, arguments + ["--address", node.address, "--source", server.url, "--name", "cut"])
        }
        func sourceRows(_ runs: [String]) async throws -> Int {
            Int(try await server.psql("SELECT count(*) FROM executions_visibility WHERE run_id IN ('\(runs.joined(separator: "', '"))')")) ?? -1
        }
        func periscopeRows(_ runs: [String]) async throws -> Int64 {
            try await client.count(namespace: "orders", query: "RunId IN ('\(runs.joined(separator: "', '"))')", consistency: .strong).count
        }

        // Before any cutover the source answers (as Temporal's SQL store would).
        let first = try await engine.list(namespace: "orders", query: "ExecutionStatus = 'Running'", pageSize: 20)
        #expect(first.from == .source && first.executions.count == 20)
        let second = try await engine.list(namespace: "orders", query: "ExecutionStatus = 'Running'", pageSize: 20, pageToken: first.nextPageToken)
        #expect(second.from == .source && Set(second.executions.map(\.runID)).isDisjoint(with: first.executions.map(\.runID)))
        #expect(engine.counters.shadowReads == 1)

        // No cutover without a clean validation.
        let early = try await migrate("migrate", "cutover", "--reads")
        #expect(early.status == 65 && early.stderr.contains("has no validation"), "\(early.stderr)")
        let clean = try await migrate("migrate", "validate")
        #expect(clean.status == 0, "\(clean.stdout)\n\(clean.stderr)")
        let reads = try await migrate("migrate", "cutover", "--reads")
        #expect(reads.status == 0 && reads.stdout.contains("source -> periscopeReads"), "\(reads.stdout)\n\(reads.stderr)")
        let tooSoon = try await migrate("migrate", "cutover", "--reads")
        #expect(tooSoon.status == 65 && tooSoon.stderr.contains("not source"), "\(tooSoon.stderr)")
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await engine.list(namespace: "orders", pageSize: 5).from == .periscope)

        // Reads cut over: the engine's writes go to the source, and the capture brings them.
        var written: [String] = []
        for number in 0..<10 {
            try await engine.write(.started, namespace: "orders", Self.record(number))
            written.append("engine-run-\(number)")
        }
        try await engine.write(.closed, namespace: "orders", Self.record(3, status: .completed))
        #expect(await waitUntil(timeout: .seconds(30)) { (try? await periscopeRows(written)) == 10 })
        // The capture's metrics file, rewritten each second.
        // (rewritten each second: the transactions' lag appears at the tick after the first one is applied)
        #expect(await waitUntil(timeout: .seconds(10)) {
            MigrationBackfillTests.log(directory + "/capture.prom").contains("periscope_migration_capture_transaction_lag_seconds")
        })
        let exported = MigrationBackfillTests.log(directory + "/capture.prom")
        #expect(exported.contains(#"periscope_migration_capture_changes_applied{migration="cut"}"#)
                    && exported.contains("periscope_migration_capture_transaction_lag_seconds"), "\(exported)")
        let back = try await migrate("migrate", "rollback")
        #expect(back.status == 0 && back.stdout.contains("periscopeReads -> source"), "\(back.stdout)\n\(back.stderr)")
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await engine.count(namespace: "orders", query: "WorkflowType = 'EngineWorkflow'") == (10, .source))
        #expect(try await periscopeRows(written) == 10)

        // Reads, then writes: the engine's writes go to Periscope first, then back to the source.
        #expect(try await migrate("migrate", "validate").status == 0)
        #expect(try await migrate("migrate", "cutover", "--reads").status == 0)
        let writes = try await migrate("migrate", "cutover", "--writes")
        #expect(writes.status == 0 && writes.stdout.contains("periscopeReads -> periscopeWrites"), "\(writes.stdout)\n\(writes.stderr)")
        try await Task.sleep(for: .milliseconds(100))
        for number in 10..<20 {
            try await engine.write(.started, namespace: "orders", Self.record(number))
            written.append("engine-run-\(number)")
        }
        try await engine.write(.closed, namespace: "orders", Self.record(12, status: .failed))
        // An engine write of an execution the capture had imported wins over the import.
        try await engine.write(.upserted, namespace: "orders", { var r = Self.record(4); r.version += 1; r.searchAttributes["Int01"] = .int(444); return r }())
        try await engine.write(.deleted, namespace: "orders", { var r = Self.record(5); r.version += 5; return r }())
        written.removeAll { $0 == "engine-run-5" }
        let (inSource, inPeriscope) = (try await sourceRows(written), try await periscopeRows(written))
        #expect(inSource == 19 && inPeriscope == 19)
        #expect(try await engine.count(namespace: "orders", query: "Int01 = 444") == (1, .periscope))
        #expect(try await server.psql("SELECT status FROM executions_visibility WHERE run_id = 'engine-run-12'") == "3")
        #expect(engine.counters.writeBacksFailed == 0)

        // Rolled back after the write cutover: the source has every write, and Periscope keeps following it.
        let rolled = try await migrate("migrate", "rollback")
        #expect(rolled.status == 0 && rolled.stdout.contains("periscopeWrites -> source"), "\(rolled.stdout)\n\(rolled.stderr)")
        try await Task.sleep(for: .milliseconds(100))
        for number in 20..<25 {
            try await engine.write(.started, namespace: "orders", Self.record(number))
            written.append("engine-run-\(number)")
        }
        try await engine.write(.closed, namespace: "orders", Self.record(13, status: .completed))
        #expect(await waitUntil(timeout: .seconds(30)) { (try? await periscopeRows(written)) == 24 })
        #expect(try await sourceRows(written) == 24)
        let after = try await migrate("migrate", "validate")
        #expect(after.status == 0 && after.stdout.contains(": clean"), "\(after.stdout)\n\(after.stderr)")
        let status = try await Spawned.periscope("migrate", "status", "--address", node.address, "--name", "cut")
        #expect(status.stdout.contains("orders: source") && status.stdout.contains("validation"), "\(status.stdout)")

        // Finished: the engine writes to Periscope alone, and the source's slot is gone.
        let early2 = try await migrate("migrate", "finish")
        #expect(early2.status == 65 && early2.stderr.contains("cut its writes over first"), "\(early2.stderr)")
        #expect(try await migrate("migrate", "cutover", "--reads").status == 0)
        #expect(try await migrate("migrate", "cutover", "--writes").status == 0)
        await capture.stop(SIGINT)
        let finished = try await migrate("migrate", "finish")
        #expect(finished.status == 0 && finished.stdout.contains("periscopeWrites -> finished"), "\(finished.stdout)\n\(finished.stderr)")
        #expect(try await server.psql("SELECT count(*) FROM pg_replication_slots") == "0")
        try await Task.sleep(for: .milliseconds(100))
        try await engine.write(.started, namespace: "orders", Self.record(30))
        let (onlyPeriscope, notInSource) = (try await periscopeRows(["engine-run-30"]), try await sourceRows(["engine-run-30"]))
        #expect(onlyPeriscope == 1 && notInSource == 0)
        let noWayBack = try await migrate("migrate", "rollback")
        #expect(noWayBack.status == 65 && noWayBack.stderr.contains("no source to go back to"), "\(noWayBack.stderr)")
    }

    /// Dual-write, for a source without logical decoding: a role that may not replicate, no
    /// slot, no capture; the engine writes both stores from before the backfill's snapshot,
    /// and validation finds them equal.
    @Test func dualWriteMovesASourceWithoutLogicalDecoding() async throws {
        let setup = try await MigrationBackfillTests.Setup.start()
        defer { setup.stop() }
        let (server, node) = (setup.server, setup.node)
        _ = try await Spawned.periscope("migrate", "source-writer", "--source", server.url, "--rate", "0", "--duration", "1",
                                        "--namespace-ids", "ns-a", "--seed", "41")
        _ = try await server.psql("CREATE ROLE engine LOGIN NOREPLICATION; GRANT SELECT, INSERT, UPDATE, DELETE ON executions_visibility TO engine")
        let source = server.url.replacingOccurrences(of: "user=postgres", with: "user=engine")
        let captureStart = try await Spawned.periscope("migrate", "start", "--address", node.address, "--source", source, "--name", "nodual",
                                                       "--namespace", "orders=ns-a")
        #expect(captureStart.status == 77 && captureStart.stderr.contains("REPLICATION"), "\(captureStart.stderr)")
        let started = try await Spawned.periscope("migrate", "start", "--address", node.address, "--source", source, "--name", "dual",
                                                  "--namespace", "orders=ns-a", "--dual-write")
        #expect(started.status == 0 && started.stdout.contains("dual-write"), "\(started.stdout)\n\(started.stderr)")
        #expect(try await server.psql("SELECT count(*) FROM pg_replication_slots") == "0")
        let client = try await PeriscopeClient.connect(to: node.address)
        defer { Task { await client.close() } }
        let engine = MigratingVisibility(periscope: client, source: source, migration: "dual", dualWrite: true)
        // The engine writes both stores before the backfill, during it and after.
        for number in 0..<10 { try await engine.write(.started, namespace: "orders", Self.record(number)) }
        let backfilled = try await Spawned.periscope("migrate", "backfill", "--address", node.address, "--source", source, "--name", "dual")
        #expect(backfilled.status == 0, "\(backfilled.stderr)")
        for number in 0..<4 { try await engine.write(.closed, namespace: "orders", Self.record(number, status: .completed)) }
        try await engine.write(.deleted, namespace: "orders", { var r = Self.record(9); r.version += 5; return r }())
        // A late start of a closed execution changes neither store.
        try await engine.write(.started, namespace: "orders", Self.record(2))
        #expect(engine.counters.writesToSource == 16 && engine.counters.writesToPeriscope == 15, "\(engine.counters)")
        #expect(try await server.psql("SELECT count(*) FROM executions_visibility WHERE workflow_type_name = 'EngineWorkflow' AND status = 2") == "4")
        #expect(try await client.count(namespace: "orders", query: "WorkflowType = 'EngineWorkflow' AND ExecutionStatus = 'Completed'",
                                       consistency: .strong).count == 4)
        let validated = try await Spawned.periscope("migrate", "validate", "--address", node.address, "--source", source, "--name", "dual")
        #expect(validated.status == 0 && validated.stdout.contains(": clean"), "\(validated.stdout)\n\(validated.stderr)")
        let capture = try await Spawned.periscope("migrate", "capture", "--address", node.address, "--source", source, "--name", "dual")
        #expect(capture.status == 65 && capture.stderr.contains("no slot"), "\(capture.stderr)")
    }
}
