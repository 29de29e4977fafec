import Foundation
import PeriscopeMigration
import PeriscopePostgres
import Testing

/// The migration's source side against a real PostgreSQL 15: Temporal's table, a writer
/// that writes as Temporal's server does, `periscope migrate inspect`, and the refusals of a
/// source that cannot be migrated.
@Suite(.serialized) struct MigrationSourceTests {
    @Test func theSourceWriterWritesAsTemporalAndEveryRowMapsBack() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        #expect(try await server.psql("SELECT count(*) FROM pg_indexes WHERE tablename = 'executions_visibility'") == "74",
                "73 indexes and the primary key")
        let written = try await Spawned.periscope("migrate", "source-writer", "--source", server.url, "--rate", "400", "--duration", "3",
                                       "--namespace-ids", "ns-a,ns-b", "--workers", "2")
        #expect(written.status == 0, "\(written.stdout) \(written.stderr)")
        let summary = written.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(summary.hasPrefix("wrote: ") && summary.contains("0 failed"), "\(summary)")

        // Every kind of statement reached the table, and every row reads back as a record.
        let rows = Int(try await server.psql("SELECT count(*) FROM executions_visibility")) ?? 0
        #expect(rows > 50, "\(rows) rows after 3 s at up to 400/s")
        #expect(try await server.psql("SELECT count(*) FROM executions_visibility WHERE close_time IS NOT NULL") != "0")
        #expect(try await server.psql("SELECT count(DISTINCT rtrim(namespace_id)) FROM executions_visibility") == "2")
        #expect(try await server.psql("SELECT count(*) FROM executions_visibility WHERE keyword01 IS NULL OR int01 IS NULL") == "0",
                "generated columns filled from the JSONB")
        let connection = try PostgresConnection(server.url)
        let schema = try TemporalSourceSchema.inspect(connection)
        #expect(schema.customAttributes.count == 28, "Bool01-03 ... KeywordList01-03: \(schema.customAttributes.keys.sorted())")
        var mapped = 0
        let columns = TemporalRow.columns.joined(separator: ", ")
        for row in try connection.query("SELECT \(columns) FROM executions_visibility").rows {
            let record = try TemporalRow(ordered: row).record(types: schema.attributeTypes)
            #expect(record.closeTime == nil || !record.status.isOpen)
            mapped += 1
        }
        #expect(mapped == rows)

        let inspected = try await Spawned.periscope("migrate", "inspect", "--source", server.url)
        #expect(inspected.status == 0, "\(inspected.stderr)")
        #expect(inspected.stdout.contains("ns-a") && inspected.stdout.contains("wal_level: logical")
                && inspected.stdout.contains("may replicate: yes"), "\(inspected.stdout)")
    }

    @Test func aSourceThatCannotBeMigratedIsRefusedByNameAndLeftUnchanged() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        // Not Temporal's table: a database without it, and a table without its columns.
        let empty = try await Spawned.periscope("migrate", "inspect", "--source", "host=127.0.0.1 port=\(server.port) user=postgres dbname=postgres")
        #expect(empty.status == 65 && empty.stderr.contains("no table executions_visibility"), "\(empty.stderr)")
        _ = try await server.psql("CREATE TABLE executions_visibility (namespace_id text, run_id text)", database: "postgres")
        let partial = try await Spawned.periscope("migrate", "inspect", "--source", "host=127.0.0.1 port=\(server.port) user=postgres dbname=postgres")
        #expect(partial.status == 65 && partial.stderr.contains("lacks column(s) _version, start_time"), "\(partial.stderr)")
        // Nothing to connect to, and a connection string that is not one.
        let closed = try RegionProcesses.freePort(host: "127.0.0.1")
        let unreachable = try await Spawned.periscope("migrate", "inspect", "--source", "host=127.0.0.1 port=\(closed) user=postgres dbname=x")
        #expect(unreachable.status == 69 && unreachable.stderr.contains("connecting to host=127.0.0.1 port=\(closed)"), "\(unreachable.stderr)")
        let garbled = try await Spawned.periscope("migrate", "inspect", "--source", "hots=127.0.0.1 password=secret")
        #expect(garbled.status == 69 && garbled.stderr.contains("invalid connection option"), "\(garbled.stderr)")
        #expect(!garbled.stderr.contains("secret"), "a password is never printed")
        // A role that may not replicate.
        _ = try await server.psql("CREATE ROLE reader LOGIN; GRANT SELECT ON executions_visibility TO reader")
        let reader = try await Spawned.periscope("migrate", "inspect", "--source", "host=127.0.0.1 port=\(server.port) user=reader dbname=temporal_visibility")
        #expect(reader.status == 77 && reader.stderr.contains("role reader has neither REPLICATION nor SUPERUSER"), "\(reader.stderr)")
        // None of it created a slot or changed the table.
        #expect(try await server.psql("SELECT count(*) FROM pg_replication_slots") == "0")
        #expect(try await server.psql("SELECT count(*) FROM executions_visibility") == "0")
        // The writer refuses a source that is not Temporal's table before writing anything.
        let refused = try await Spawned.periscope("migrate", "source-writer", "--source", "host=127.0.0.1 port=\(server.port) user=postgres dbname=postgres",
                                       "--duration", "1")
        #expect(refused.status == 65 && refused.stderr.contains("lacks column(s)"), "\(refused.stderr)")
        #expect(try await server.psql("SELECT count(*) FROM executions_visibility", database: "postgres") == "0")
    }
}
