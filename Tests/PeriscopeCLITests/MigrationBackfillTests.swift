import Foundation
import PeriscopeAPI
import PeriscopeClient
import PeriscopeMigration
import PeriscopeModel
import PeriscopePostgres
import PeriscopeTestSupport
import Testing

/// `periscope migrate start` and `backfill` against a real PostgreSQL and a real node: every
/// row arrives exactly, a kill -9 in the middle resumes without copying a finished chunk
/// again, and a source that cannot be migrated is refused with nothing changed.
@Suite(.serialized) struct MigrationBackfillTests {
    /// Every row of the source, as records, by namespace id and run id.
    static func sourceRecords(_ url: String) throws -> [String: VisibilityRecord] {
        let connection = try PostgresConnection(url)
        let schema = try TemporalSourceSchema.inspect(connection)
        var records: [String: VisibilityRecord] = [:]
        for row in try connection.query("SELECT \(TemporalRow.columns.joined(separator: ", ")) FROM executions_visibility").rows {
            let record = try TemporalRow(ordered: row).record(types: schema.attributeTypes)
            records[record.key.namespaceId + "/" + record.key.runId] = record
        }
        return records
    }

    /// Every source row must be in Periscope, field for field, and nothing else: the whole
    /// namespace is listed and compared (a few thousand executions).
    static func expectCopied(_ records: [String: VisibilityRecord], namespaces: [String: String], client: PeriscopeClient) async throws {
        for (name, sourceId) in namespaces {
            var expected: [String: VisibilityRecord] = [:]
            for record in records.values where record.key.namespaceId == sourceId { expected[record.key.runId] = record.normalized() }
            var missing = 0, different = 0, extra = 0
            var seen = Set<String>()
            for try await execution in client.executions(namespace: name, pageSize: 1_000, consistency: .strong) {
                seen.insert(execution.runID)
                guard let want = expected[execution.runID] else { extra += 1; continue }
                var copy = try RecordWire.record(execution, namespaceId: sourceId)
                copy.failoverVersion = 0
                if copy != want { different += 1 }
            }
            missing = expected.keys.filter { !seen.contains($0) }.count
            #expect(missing == 0 && different == 0 && extra == 0,
                    "namespace \(name): \(missing) missing, \(different) different, \(extra) not in the source (of \(expected.count))")
        }
    }

    /// A source, a node and a folder for logs, for one test.
    struct Setup {
        let server: PostgresServer
        let directory: String
        let node: NodeProcess

        static func start() async throws -> Setup {
            let server = try await PostgresServer.start()
            do {
                let directory = try CLITests.temporaryDirectory()
                return Setup(server: server, directory: directory, node: try await NodeProcess.start(data: directory + "/data"))
            } catch {
                server.stop()
                throw error
            }
        }

        func stop() {
            node.killMinusNine()
            server.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    static func log(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "(no log)" }

    @Test func theBackfillCopiesEveryRowAndAKilledOneResumesWithoutRedoingChunks() async throws {
        let setup = try await Setup.start()
        defer { setup.stop() }
        let (server, directory, node) = (setup.server, setup.directory, setup.node)
        let seeded = try await Spawned.periscope("migrate", "source-writer", "--source", server.url, "--rate", "0", "--duration", "6",
                                      "--namespace-ids", "ns-a,ns-b", "--workers", "4")
        #expect(seeded.status == 0, "\(seeded.stderr)")
        let rows = Int(try await server.psql("SELECT count(*) FROM executions_visibility")) ?? 0
        #expect(rows > 500, "\(rows) rows seeded")

        // Paced to ~1/4 of the rows per second, killed once a few chunks are recorded done.
        let starting = try Spawned.start(CLITests.binary, ["migrate", "start", "--address", node.address, "--source", server.url, "--name", "m1",
                                                           "--namespace", "orders=ns-a", "--namespace", "billing=ns-b", "--chunk-rows", "100",
                                                           "--workers", "2", "--rows-per-second", String(rows / 4)], output: directory + "/start.log")
        let client = try await PeriscopeClient.connect(to: node.address)
        defer { Task { await client.close() } }
        let store = MigrationStore(client: client)
        #expect(await waitUntil(timeout: .seconds(60)) { ((try? await store.load("m1"))??.chunksDone ?? 0) >= 3 })
        await starting.stop(SIGKILL)
        let interrupted = try #require(try await store.load("m1"), "the state was saved before the kill: \(Self.log(directory + "/start.log"))")
        #expect(interrupted.phase == .backfilling && interrupted.chunksDone > 0 && interrupted.chunksDone < interrupted.chunks.count,
                "\(interrupted.chunksDone) of \(interrupted.chunks.count) chunks done at the kill")
        #expect(try await server.psql("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'periscope_m1'") == "1")

        let resumed = try await Spawned.periscope("migrate", "backfill", "--address", node.address, "--source", server.url, "--name", "m1")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let done = try #require(try await store.load("m1"))
        #expect(done.phase == .backfilled && done.chunksDone == done.chunks.count && done.rejectedCount == 0, "\(MigrationReport.text(done))")
        #expect(done.rowsCopied == rows, "\(done.rowsCopied) rows copied of \(rows)")
        // The chunks done before the kill kept their counts: the resumed run copied only the others.
        for chunk in interrupted.chunks where chunk.done { #expect(done.chunks[chunk.id].rows == chunk.rows) }
        try await Self.expectCopied(try Self.sourceRecords(server.url), namespaces: ["orders": "ns-a", "billing": "ns-b"], client: client)

        let status = try await Spawned.periscope("migrate", "status", "--address", node.address, "--name", "m1", "--source", server.url)
        #expect(status.status == 0 && status.stdout.contains("backfilled") && status.stdout.contains("slot periscope_m1: idle"), "\(status.stdout)")
        let aborted = try await Spawned.periscope("migrate", "abort", "--address", node.address, "--source", server.url, "--name", "m1")
        #expect(aborted.status == 0, "\(aborted.stderr)")
        #expect(try await server.psql("SELECT count(*) FROM pg_replication_slots") == "0")
    }

    @Test func aMigrationThatCannotStartChangesNothing() async throws {
        let setup = try await Setup.start()
        defer { setup.stop() }
        let (server, node) = (setup.server, setup.node)
        // A slot of that name exists already.
        _ = try await server.psql("SELECT pg_create_logical_replication_slot('periscope_m2', 'pgoutput')")
        let taken = try await Spawned.periscope("migrate", "start", "--address", node.address, "--source", server.url, "--name", "m2", "--namespace", "orders=ns-a")
        #expect(taken.status == 65 && taken.stderr.contains("replication slot periscope_m2 exists already"), "\(taken.stderr)")
        #expect(try await server.psql("SELECT count(*) FROM pg_publication") == "0")
        // A role that may not replicate.
        _ = try await server.psql("CREATE ROLE reader LOGIN; GRANT SELECT ON executions_visibility TO reader")
        let reader = try await Spawned.periscope("migrate", "start", "--address", node.address, "--name", "m3", "--namespace", "orders=ns-a",
                                      "--source", "host=127.0.0.1 port=\(server.port) user=reader dbname=temporal_visibility")
        #expect(reader.status == 77 && reader.stderr.contains("neither REPLICATION nor SUPERUSER"), "\(reader.stderr)")
        // Bad names and mappings never reach the source.
        let badName = try await Spawned.periscope("migrate", "start", "--address", node.address, "--source", server.url, "--name", "M-1", "--namespace", "o=ns")
        #expect(badName.status == 65 && badName.stderr.contains("must be 1 to 40 lower-case letters"), "\(badName.stderr)")
        let badMapping = try await Spawned.periscope("migrate", "start", "--address", node.address, "--source", server.url, "--name", "m4", "--namespace", "orders")
        #expect(badMapping.status == 64 && badMapping.stderr.contains("is not NAME=SOURCE_ID"), "\(badMapping.stderr)")
        #expect(try await server.psql("SELECT count(*) FROM pg_replication_slots") == "1", "only the slot made by hand")
        #expect(try await server.psql("SELECT count(*) FROM pg_publication") == "0")
        let client = try await PeriscopeClient.connect(to: node.address)
        #expect(try await MigrationStore(client: client).load("m3") == nil)
        await client.close()
    }

    @Test func withTheWriterRunningBackfillAndCaptureEndEqualToTheSourceThroughAKill() async throws {
        let setup = try await Setup.start()
        defer { setup.stop() }
        let (server, directory, node) = (setup.server, setup.directory, setup.node)
        _ = try await Spawned.periscope("migrate", "source-writer", "--source", server.url, "--rate", "0", "--duration", "3", "--namespace-ids", "ns-a,ns-b")
        // The writer runs from here to the end of the capture: starts, upserts, closes, deletes, retries.
        let writer = try Spawned.start(CLITests.binary, ["migrate", "source-writer", "--source", server.url, "--rate", "300", "--seed", "9",
                                                         "--namespace-ids", "ns-a,ns-b"], output: directory + "/writer.log")
        var writerRunning = true
        defer { if writerRunning { kill(writer.pid, SIGKILL) } }
        let started = try await Spawned.periscope("migrate", "start", "--address", node.address, "--source", server.url, "--name", "live",
                                       "--namespace", "orders=ns-a", "--namespace", "billing=ns-b", "--chunk-rows", "500")
        #expect(started.status == 0, "\(started.stderr)")
        let client = try await PeriscopeClient.connect(to: node.address)
        defer { Task { await client.close() } }
        let store = MigrationStore(client: client)

        // A capture killed -9 once it has applied changes, then run again.
        let capture = try Spawned.start(CLITests.binary, ["migrate", "capture", "--address", node.address, "--source", server.url,
                                                          "--name", "live"], output: directory + "/capture.log")
        #expect(await waitUntil(timeout: .seconds(60)) { ((try? await store.load("live"))??.changesApplied ?? 0) > 100 },
                "\(Self.log(directory + "/capture.log"))")
        await capture.stop(SIGKILL)
        let again = try await Spawned.periscope("migrate", "capture", "--address", node.address, "--source", server.url, "--name", "live", "--duration", "3")
        #expect(again.status == 0, "\(again.stderr)")

        // The writer stops; the capture catches up; Periscope equals the source.
        #expect(await writer.stop(SIGINT) == 0, "\(writer.errors)")
        writerRunning = false
        let wrote = writer.output
        #expect(wrote.contains("deletes") && wrote.contains("0 failed"), "\(wrote.suffix(300))")
        let caughtUp = try await Spawned.periscope("migrate", "capture", "--address", node.address, "--source", server.url, "--name", "live", "--until-caught-up")
        #expect(caughtUp.status == 0, "\(caughtUp.stderr)")
        let state = try #require(try await store.load("live"))
        #expect(state.rejectedCount == 0, "\(state.rejected)")
        try await Self.expectCopied(try Self.sourceRecords(server.url), namespaces: ["orders": "ns-a", "billing": "ns-b"], client: client)
    }

    /// A replication connection that dies without closing (the server's walsender stopped
    /// with SIGSTOP: the socket stays open, nothing arrives): the capture asks the server to
    /// answer, hears nothing, and stops with an error that says so, instead of waiting forever.
    @Test func aCaptureWhoseServerFallsSilentStopsAndSaysSo() async throws {
        let setup = try await Setup.start()
        defer { setup.stop() }
        let (server, directory, node) = (setup.server, setup.directory, setup.node)
        _ = try await Spawned.periscope("migrate", "source-writer", "--source", server.url, "--rate", "0", "--duration", "1", "--namespace-ids", "ns-a")
        let started = try await Spawned.periscope("migrate", "start", "--address", node.address, "--source", server.url, "--name", "quiet",
                                                  "--namespace", "orders=ns-a")
        #expect(started.status == 0, "\(started.stderr)")
        let capture = try Spawned.start(CLITests.binary, ["migrate", "capture", "--address", node.address, "--source", server.url,
                                                          "--name", "quiet", "--silence-timeout", "4"], output: directory + "/capture.out",
                                        errors: directory + "/capture.err")
        var walsender: pid_t = 0
        #expect(await waitUntil(timeout: .seconds(30)) {
            walsender = pid_t((try? await server.psql("SELECT active_pid FROM pg_replication_slots WHERE slot_name = 'periscope_quiet' AND active")) ?? "") ?? 0
            return walsender > 0
        })
        // Quiet but healthy: past the timeout, the capture still runs (its requests are answered).
        try await Task.sleep(for: .seconds(6))
        #expect(!capture.output.contains("capture stopped") && !capture.errors.contains("connection is gone"), "\(capture.errors)")
        kill(walsender, SIGSTOP)
        defer { kill(walsender, SIGCONT) }
        let stoppedAt = ContinuousClock.now
        let watchdog = Task { try await Task.sleep(for: .seconds(40)); kill(capture.pid, SIGKILL) }
        let status = await capture.wait()  // it must exit by itself
        watchdog.cancel()
        #expect(status != 0 && capture.errors.contains("the replication connection is gone"), "\(capture.errors)")
        #expect(ContinuousClock.now - stoppedAt < .seconds(15))
    }

    /// A start killed after it made its slot and before it planned its chunks: `start` again,
    /// under the same name, drops what the first one made and starts over.
    @Test func aStartThatDiedAfterMakingItsSlotIsReplacedByTheNext() async throws {
        let setup = try await Setup.start()
        defer { setup.stop() }
        let (server, node) = (setup.server, setup.node)
        _ = try await Spawned.periscope("migrate", "source-writer", "--source", server.url, "--rate", "0", "--duration", "1", "--namespace-ids", "ns-a")
        // What the dead start left: its provisional state, its publication and its slot.
        let client = try await PeriscopeClient.connect(to: node.address)
        defer { Task { await client.close() } }
        let store = MigrationStore(client: client)
        try await store.prepare()
        var provisional = MigrationState(name: "again", source: server.url, slot: "periscope_again", publication: "periscope_again",
                                         namespaces: ["ns-a": "orders"], attributeTypes: [:], startLSN: .zero, snapshot: nil)
        try await store.save(&provisional)
        _ = try await server.psql("CREATE PUBLICATION periscope_again FOR TABLE executions_visibility")
        _ = try await server.psql("SELECT pg_create_logical_replication_slot('periscope_again', 'pgoutput')")
        let resumed = try await Spawned.periscope("migrate", "backfill", "--address", node.address, "--source", server.url, "--name", "again")
        #expect(resumed.status == 65 && resumed.stderr.contains("run `migrate start` again"), "\(resumed.stderr)")

        let started = try await Spawned.periscope("migrate", "start", "--address", node.address, "--source", server.url, "--name", "again",
                                                  "--namespace", "orders=ns-a")
        #expect(started.status == 0, "\(started.stderr)")
        let state = try #require(try await store.load("again"))
        #expect(state.phase == .backfilled && state.startLSN != .zero && state.revision > provisional.revision, "\(MigrationReport.text(state))")
        #expect(try await server.psql("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'periscope_again'") == "1")
        let rows = Int(try await server.psql("SELECT count(*) FROM executions_visibility")) ?? -1
        #expect(state.rowsCopied == rows)
        // A finished start is not replaced.
        let twice = try await Spawned.periscope("migrate", "start", "--address", node.address, "--source", server.url, "--name", "again",
                                                "--namespace", "orders=ns-a")
        #expect(twice.status == 65 && twice.stderr.contains("exists already"), "\(twice.stderr)")
    }
}
