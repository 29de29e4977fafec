import ArgumentParser
import Foundation
import NIOPosix
import PeriscopeMigration
import PeriscopeModel
import PeriscopePostgres

/// `periscope migrate`: moving a live Temporal PostgreSQL visibility store into Periscope.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Move a live Temporal PostgreSQL visibility store into Periscope (docs/migration.md).",
        discussion: """
            `inspect` checks a source and changes nothing. `start` makes a migration (Periscope namespaces with the \
            source's ids and search attribute fields, a publication, a logical replication slot with its exported \
            snapshot) and backfills every row; `backfill` resumes a backfill cut short; `capture` follows the source's \
            changes from the slot; `validate` proves Periscope holds exactly the source's executions or names those that \
            differ; `shadow` compares List Filter queries' answers; `cutover --reads`, then `--writes`, moves \
            namespaces to Periscope, `rollback` back to the source from either stage, `finish` ends the migration; \
            `query` reads where a namespace's stage says; `status` shows each phase; `abort` drops the slot and \
            publication. `source-writer` writes to a source as Temporal's server does (docs/migration.md).
            """,
        subcommands: [Inspect.self, Start.self, Backfill.self, Capture.self, Validate.self, Shadow.self, Cutover.self, Rollback.self, Finish.self,
                      MigratingQuery.self, Status.self, Abort.self, SourceWriter.self]
    )
}

/// Where the source is.
struct SourceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The source's libpq connection string or URL (\"host=127.0.0.1 port=55432 user=postgres dbname=temporal_visibility\").",
                               valueName: "conninfo"))
    var source: String
}

/// A source failure as the command's message and exit status (69: the source is unreachable,
/// 65: it is not usable as asked, 77: a permission).
func reportingSourceFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as PostgresError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(error.sqlState == nil ? 69 : (error.isPermissionDenied ? 77 : 65))
    } catch let error as MigrationError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        if case .permission = error { throw ExitCode(77) }
        throw ExitCode(65)
    }
}

/// Runs `body`, calling `report(false)` every second meanwhile and `report(true)` once it has
/// returned. With `onInterrupt`, SIGINT calls it instead of ending the process, so that the
/// work stops where it can and keeps what it did.
func withProgress<Result: Sendable>(report: @escaping @Sendable (_ final: Bool) -> Void, onInterrupt: (@Sendable () -> Void)? = nil,
                                    _ body: () async throws -> Result) async throws -> Result {
    var interrupts: (any DispatchSourceSignal)?
    if let onInterrupt {
        let source = DispatchSource.makeSignalSource(signal: SIGINT)
        signal(SIGINT, SIG_IGN)
        source.setEventHandler(handler: onInterrupt)
        source.resume()
        interrupts = source
    }
    defer { interrupts?.cancel() }
    let reporter = Task {
        while true {
            try await Task.sleep(for: .seconds(1))
            report(false)
        }
    }
    let result: Result
    do {
        result = try await body()
    } catch {
        reporter.cancel()
        throw error
    }
    reporter.cancel()
    _ = await reporter.result
    report(true)
    return result
}

extension MigrateCommand {
    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that a source can be migrated; changes nothing.",
            discussion: """
                Prints the server's version, the rows per namespace, the search attribute fields and their \
                types (from the table's generated columns), whether logical decoding is on (wal_level=logical), \
                whether the role may replicate, and any replication slot of a Periscope migration. Exit status \
                65 if the source is not Temporal's table or cannot be captured, 69 if it cannot be reached.
                """
        )
        @OptionGroup var source: SourceOptions

        func run() async throws {
            try await reportingSourceFailures {
                let report = try await onPostgresThread { [conninfo = source.source] in try SourceInspection.inspect(conninfo) }
                print(report.text)
                if let problem = report.problem { throw problem }
            }
        }
    }

    struct SourceWriter: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "source-writer",
            abstract: "Write to a source as Temporal's server does, at a chosen rate.",
            discussion: """
                Starts, upserts (search attributes changing), closes and deletes with Temporal's own statements \
                (INSERT ... ON CONFLICT DO NOTHING; upserts guarded by _version; unconditional deletes), with \
                retried and late tasks among them, versions above every _version already stored. Prints its \
                counts every second; stops after --duration or on SIGINT.
                """
        )
        @OptionGroup var source: SourceOptions
        @Option(help: "Namespace ids (UUIDs), comma-separated.") var namespaceIds = "8c0e6b1e-8f36-4c51-9c8f-2b0e1c7a9d01"
        @Option(help: "Statements per second over all workers (0: as fast as they go).") var rate: Double = 100
        @Option(help: "Connections writing at once.") var workers = 2
        @Option(help: "Seconds to run (0: until SIGINT).") var duration: Double = 0
        @Option(help: "Seed of the workload.") var seed: UInt64 = 1

        func validate() throws {
            guard (1...64).contains(workers) else { throw ValidationError("--workers must be 1 ... 64") }
            guard rate >= 0, rate <= 1_000_000 else { throw ValidationError("--rate must be 0 ... 1000000") }
            guard duration >= 0 else { throw ValidationError("--duration must not be negative") }
            guard !namespaceIdList.isEmpty, namespaceIdList.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 64 }) else {
                throw ValidationError("--namespace-ids must list ids of 1 ... 64 bytes")
            }
        }

        var namespaceIdList: [String] { namespaceIds.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

        func run() async throws {
            let writer = TemporalSourceWriter(.init(conninfo: source.source, namespaceIds: namespaceIdList, rate: rate, workers: workers, seed: seed))
            let started = ContinuousClock.now
            try await reportingSourceFailures {
                try await withProgress(report: { final in Self.report(writer.snapshot, since: started, final: final) }, onInterrupt: writer.stop) {
                    try await writer.run(for: duration > 0 ? .seconds(duration) : nil)
                }
            }
            if let failure = writer.snapshot.lastFailure { FileHandle.standardError.write(Data("last failure: \(failure)\n".utf8)) }
        }

        static func report(_ counts: TemporalSourceWriter.Counts, since started: ContinuousClock.Instant, final: Bool) {
            let seconds = max(0.001, (ContinuousClock.now - started).seconds)
            let line = "\(final ? "wrote" : "writing"): \(counts.statements) statements (\(Int(Double(counts.statements) / seconds))/s): "
                + "\(counts.starts) starts, \(counts.upserts) upserts, \(counts.closes) closes, \(counts.deletes) deletes; "
                + "\(counts.unchanged) changed nothing, \(counts.failures) failed"
            print(line)
        }
    }
}
