import Foundation
import PeriscopeAPI
import PeriscopeClient
import PeriscopeMigration
import PeriscopeModel
import PeriscopePostgres
import PeriscopeTestSupport
import Testing

/// `periscope migrate validate` against a real PostgreSQL and a real node: the SQL and Swift
/// fingerprints agree on every kind of value; 100,000 rows moved with the engine writing all
/// along (and the migration killed -9 in its backfill and in its capture) validate clean;
/// a row changed behind the capture's back and one deleted in Periscope are named.
@Suite(.serialized) struct MigrationValidationTests {
    /// Rows with each kind of value the canonical text must print alike in SQL and Swift.
    static let awkwardRows: [(runId: String, attributes: String, memo: String, closed: Bool)] = [
        ("r-doubles-1", #"{"Double01": 0.1, "Int01": -42, "Bool01": true}"#, "NULL", false),
        ("r-doubles-2", #"{"Double01": 99999999999999.98, "Int01": 9007199254740993}"#, "''::bytea", true),
        ("r-doubles-3", #"{"Double01": 1.5e-7, "Text01": "l'été \"x\" ✓"}"#, #"'\x00ff10'::bytea"#, false),
        ("r-doubles-4", #"{"Double01": -2.5, "KeywordList01": "single"}"#, "NULL", true),
        ("r-doubles-5", #"{"Double01": 100, "KeywordList01": ["a", "b, c", "ü"]}"#, "NULL", false),
        ("r-doubles-6", #"{"Double01": 1234567890.1234567, "Bool01": false}"#, "NULL", false),
        ("r-doubles-7", #"{"Double01": 1e14, "Keyword01": ""}"#, "NULL", false),
        ("r-doubles-8", #"{"Double01": 0.0001, "KeywordList01": []}"#, "NULL", false),
        ("r-doubles-9", #"{"Double01": 0.00012345, "Datetime01": "2026-12-06T14:41:00.5909825Z"}"#, "NULL", false),
        ("r-times-1", #"{"Datetime01": "1969-07-20T20:17:40.123456789Z"}"#, "NULL", true),
        ("r-times-2", #"{"Datetime01": "2024-02-29T23:59:59+02:00", "Datetime02": "2026-01-01T00:00:00.0000005Z"}"#, "NULL", false),
        ("r-empty", "NULL", "NULL", false),
        ("r-nulls", #"{"Keyword01": null}"#, "NULL", false),
        ("r-json-null", "null", "NULL", false),
        ("r-schedule", #"{"TemporalNamespaceDivision": "TemporalScheduler", "TemporalSchedulePaused": true}"#, "NULL", false),
    ]

    @Test func theSourcesSQLAndPeriscopesSwiftPrintEveryValueAlike() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        for row in Self.awkwardRows {
            let close = row.closed ? "'2026-12-06 15:00:00.123456', 2" : "NULL, 1"
            _ = try await server.psql("""
                INSERT INTO executions_visibility (namespace_id, run_id, _version, start_time, execution_time, workflow_id, \
                workflow_type_name, close_time, status, history_length, memo, encoding, task_queue, search_attributes, parent_workflow_id) \
                VALUES ('ns-a', '\(row.runId)', 7, '2026-12-06 14:00:00.654321', '2026-12-06 14:00:01', 'wf-\(row.runId)', 'T', \(close), \
                \(row.closed ? "12" : "NULL"), \(row.memo), 'Proto3', 'q', \(row.attributes == "NULL" ? "NULL" : "'\(row.attributes.replacingOccurrences(of: "'", with: "''"))'::jsonb"), \
                \(row.closed ? "'parent'" : "NULL"))
                """)
        }
        let connection = try PostgresConnection(server.url)
        _ = try connection.execute(SourceChecksums.sessionSettings)
        let types = try TemporalSourceSchema.inspect(connection).attributeTypes
        let sql = SourceChecksums(types: types)
        let rows = try connection.query("SELECT \(TemporalRow.columns.joined(separator: ", ")), \(sql.canonicalText) FROM executions_visibility").rows
        #expect(rows.count == Self.awkwardRows.count)
        for row in rows {
            let record = try TemporalRow(ordered: Array(row.prefix(TemporalRow.columns.count))).record(types: types)
            let swift = ExecutionFingerprint.canonicalText(of: record)
            let postgres = row.last! ?? ""
            #expect(swift == postgres, "\(record.key.runId):\n  Swift:      \(swift.debugDescription)\n  PostgreSQL: \(postgres.debugDescription)")
        }
    }

    /// The repository's scripts/temporal folder, found from this file.
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/temporal").path

    /// Seeds `rows` Temporal-like rows with scripts/temporal/seed-rows.sql (the benchmark's too).
    static func seed(_ server: PostgresServer, rows: Int) async throws {
        let sql = try String(contentsOfFile: scripts + "/seed-rows.sql", encoding: .utf8)
        _ = try await server.psql(sql.replacingOccurrences(of: ":rows", with: String(rows)))
    }

    @Test func aHundredThousandRowsMovedWhileTheEngineWritesValidateCleanThroughKills() async throws {
        let setup = try await MigrationBackfillTests.Setup.start()
        defer { setup.stop() }
        let (server, directory, node) = (setup.server, setup.directory, setup.node)
        try await Self.seed(server, rows: 100_000)
        // The engine writes from here to the end: starts, upserts, closes, deletes, retries.
        let writer = try Spawned.start(CLITests.binary, ["migrate", "source-writer", "--source", server.url, "--rate", "150", "--seed", "21",
                                                         "--namespace-ids", "ns-a,ns-b"], output: directory + "/writer.log")
        var running: [Spawned] = [writer]
        defer { for process in running { kill(process.pid, SIGKILL) } }
        let client = try await PeriscopeClient.connect(to: node.address)
        defer { Task { await client.close() } }
        let store = MigrationStore(client: client)

        // The backfill, killed -9 once a few chunks are done, then resumed.
        let starting = try Spawned.start(CLITests.binary, ["migrate", "start", "--address", node.address, "--source", server.url, "--name", "big",
                                                           "--namespace", "orders=ns-a", "--namespace", "billing=ns-b", "--chunk-rows", "5000"],
                                         output: directory + "/start.log")
        #expect(await waitUntil(timeout: .seconds(120)) { ((try? await store.load("big"))??.chunksDone ?? 0) >= 3 },
                "\(MigrationBackfillTests.log(directory + "/start.log"))")
        await starting.stop(SIGKILL)
        let interrupted = try #require(try await store.load("big"))
        #expect(interrupted.chunksDone < interrupted.chunks.count, "the kill came after the backfill ended")
        let resumed = try await Spawned.periscope("migrate", "backfill", "--address", node.address, "--source", server.url, "--name", "big")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try #require(try await store.load("big")).rowsCopied >= 100_000)

        // The capture, killed -9 once it applied changes, then left running.
        let firstCapture = try Spawned.start(CLITests.binary, ["migrate", "capture", "--address", node.address, "--source", server.url,
                                                               "--name", "big"], output: directory + "/capture-1.log")
        #expect(await waitUntil(timeout: .seconds(120)) { ((try? await store.load("big"))??.changesApplied ?? 0) > 300 },
                "\(MigrationBackfillTests.log(directory + "/capture-1.log"))")
        await firstCapture.stop(SIGKILL)
        let capture = try Spawned.start(CLITests.binary, ["migrate", "capture", "--address", node.address, "--source", server.url, "--name", "big"],
                                        output: directory + "/capture-2.log")
        running.append(capture)

        // Clean, with the writer and the capture running.
        let clean = try await Spawned.periscope("migrate", "validate", "--address", node.address, "--source", server.url, "--name", "big",
                                                "--metrics-file", directory + "/validate.prom")
        #expect(clean.status == 0 && clean.stdout.contains(": clean"), "\(clean.stdout)\n\(clean.stderr)")
        let exported = MigrationBackfillTests.log(directory + "/validate.prom")
        #expect(exported.contains(#"periscope_migration_validation_differences{migration="big"} 0"#)
                    && exported.contains(#"periscope_migration_validation_executions{migration="big",namespace="orders",store="source"} 5"#),
                "\(exported)")
        #expect(clean.stdout.contains("namespace orders: 5") && clean.stdout.contains("namespace billing: 5"), "\(clean.stdout)")
        let record = try #require(try await store.document(ValidationRecord.self, migration: "big", part: ValidationRecord.part))
        #expect(record.report.isClean && record.report.namespaces.map(\.sourceExecutions).reduce(0, +) >= 100_000)

        // Behind the capture's back: a row changed in the source while the publication left
        // the table out, and a row deleted in Periscope.
        let changedRun = "tampered-in-source", deletedRun = "deleted-in-periscope"
        for run in [changedRun, deletedRun] {
            _ = try await server.psql("""
                INSERT INTO executions_visibility (namespace_id, run_id, _version, start_time, execution_time, workflow_id, workflow_type_name, \
                status, encoding, task_queue) VALUES ('ns-a', '\(run)', 1, now() - interval '3 hours', now() - interval '3 hours', 'wf-\(run)', 'T', 1, 'Proto3', 'q')
                """)
        }
        #expect(await waitUntil(timeout: .seconds(60)) {
            (try? await client.count(namespace: "orders", query: "RunId IN ('\(changedRun)', '\(deletedRun)')", consistency: .strong).count) == 2
        })
        _ = try await server.psql("""
            BEGIN; ALTER PUBLICATION periscope_big DROP TABLE executions_visibility; \
            UPDATE executions_visibility SET status = 3, close_time = now(), history_length = 77 WHERE run_id = '\(changedRun)'; \
            ALTER PUBLICATION periscope_big ADD TABLE executions_visibility; COMMIT;
            """)
        let deleted = try await client.importWrites(namespace: "orders", [.with {
            $0.delete = .with { $0.workflowID = "wf-\(deletedRun)"; $0.runID = deletedRun }
            $0.sourceOrder = Int64.max / 100 - 1
        }])
        #expect(deleted.outcomes.first?.code == 0)
        let found = try await Spawned.periscope("migrate", "validate", "--address", node.address, "--source", server.url, "--name", "big")
        #expect(found.status == 1, "\(found.stdout)\n\(found.stderr)")
        #expect(found.stdout.contains("wf-\(changedRun) \(changedRun): differs (ExecutionStatus, CloseTime, HistoryLength)"), "\(found.stdout)")
        #expect(found.stdout.contains("wf-\(deletedRun) \(deletedRun): missing in Periscope"), "\(found.stdout)")
        #expect(found.stdout.contains("2 differing, 0 unsettled"), "\(found.stdout)")

        #expect(await writer.stop(SIGINT) == 0, "\(writer.errors)")
        running.removeAll { $0.pid == writer.pid }
        #expect(writer.output.contains("0 failed"), "\(writer.output.suffix(300))")
    }

    /// The project's corpus of List Filter queries.
    static let corpus = scripts + "/list-filter-corpus.txt"

    @Test func shadowQueriesAgreeOnTheCorpusAndFindARowChangedBehindTheCapture() async throws {
        let setup = try await MigrationBackfillTests.Setup.start()
        defer { setup.stop() }
        let (server, node) = (setup.server, setup.node)
        let seeded = try await Spawned.periscope("migrate", "source-writer", "--source", server.url, "--rate", "0", "--duration", "4",
                                                 "--namespace-ids", "ns-a,ns-b", "--workers", "4", "--seed", "5")
        #expect(seeded.status == 0, "\(seeded.stderr)")
        let started = try await Spawned.periscope("migrate", "start", "--address", node.address, "--source", server.url, "--name", "shadow",
                                                  "--namespace", "orders=ns-a", "--namespace", "billing=ns-b")
        #expect(started.status == 0, "\(started.stderr)")
        // Changes after the snapshot reach Periscope through the capture.
        _ = try await Spawned.periscope("migrate", "source-writer", "--source", server.url, "--rate", "0", "--duration", "1",
                                        "--namespace-ids", "ns-a,ns-b", "--seed", "6")
        let captured = try await Spawned.periscope("migrate", "capture", "--address", node.address, "--source", server.url, "--name", "shadow",
                                                   "--until-caught-up")
        #expect(captured.status == 0, "\(captured.stderr)")

        let agreed = try await Spawned.periscope("migrate", "shadow", "--address", node.address, "--source", server.url, "--name", "shadow",
                                                 "--queries", Self.corpus)
        let queries = try QueryCorpus.load(Self.corpus).entries.count
        #expect(agreed.status == 0, "\(agreed.stdout)\n\(agreed.stderr)")
        #expect(agreed.stdout.contains("shadow queries: \(queries * 2) run, \(queries * 2 - 4) agreed, 0 differ, 4 not comparable, 0 refused"),
                "\(agreed.stdout)")
        #expect(agreed.stdout.contains("not comparable: orders [list] ORDER BY StartTime DESC"), "\(agreed.stdout)")

        // Temporal's legacy converter reads CloseTime through coalesce: running executions match
        // `CloseTime > X` there, not in Periscope. A deployment on it sees that query differ.
        let closeQuery = setup.directory + "/close.txt"
        try "CloseTime > '2000-01-01T00:00:00Z'\n".write(toFile: closeQuery, atomically: true, encoding: .utf8)
        let unified = try await Spawned.periscope("migrate", "shadow", "--address", node.address, "--source", server.url, "--name", "shadow",
                                                  "--queries", closeQuery, "--namespace", "orders")
        #expect(unified.status == 0 && unified.stdout.contains("1 agreed"), "\(unified.stdout)")
        let legacy = try await Spawned.periscope("migrate", "shadow", "--address", node.address, "--source", server.url, "--name", "shadow",
                                                 "--queries", closeQuery, "--namespace", "orders", "--converter", "legacy")
        #expect(legacy.status == 1 && legacy.stdout.contains("DIFFERS: orders [list] CloseTime >") && legacy.stdout.contains("only in the source"),
                "\(legacy.stdout)")
        // Bad options and files are refused by name, before anything runs.
        let badConverter = try await Spawned.periscope("migrate", "shadow", "--address", node.address, "--source", server.url, "--name", "shadow",
                                                       "--queries", closeQuery, "--converter", "elastic")
        #expect(badConverter.status == 64 && badConverter.stderr.contains("--converter must be unified or legacy"), "\(badConverter.stderr)")
        let missingFile = try await Spawned.periscope("migrate", "shadow", "--address", node.address, "--source", server.url, "--name", "shadow",
                                                      "--queries", setup.directory + "/none.txt")
        #expect(missingFile.status == 65 && missingFile.stderr.contains("cannot read the query file"), "\(missingFile.stderr)")
        let foreign = try await Spawned.periscope("migrate", "shadow", "--address", node.address, "--source", server.url, "--name", "shadow",
                                                  "--queries", closeQuery, "--namespace", "default")
        #expect(foreign.status == 65 && foreign.stderr.contains("namespace default is not part of migration shadow"), "\(foreign.stderr)")

        // A running execution closed in the source while the publication left the table out.
        let run = try await server.psql("SELECT rtrim(run_id) FROM executions_visibility WHERE namespace_id = 'ns-a' AND status = 1 "
            + "ORDER BY start_time DESC LIMIT 1")
        _ = try await server.psql("""
            BEGIN; ALTER PUBLICATION periscope_shadow DROP TABLE executions_visibility; \
            UPDATE executions_visibility SET status = 5, close_time = now() WHERE run_id = '\(run)'; \
            ALTER PUBLICATION periscope_shadow ADD TABLE executions_visibility; COMMIT;
            """)
        let differs = try await Spawned.periscope("migrate", "shadow", "--address", node.address, "--source", server.url, "--name", "shadow",
                                                  "--queries", Self.corpus, "--namespace", "orders")
        #expect(differs.status == 1, "\(differs.stdout)")
        #expect(differs.stdout.contains("DIFFERS: orders [list] ExecutionStatus = 'Running'") && differs.stdout.contains("only in Periscope: \(run)"),
                "\(differs.stdout)")
        #expect(differs.stdout.contains("DIFFERS: orders [count] GROUP BY ExecutionStatus"), "\(differs.stdout)")
    }
}
