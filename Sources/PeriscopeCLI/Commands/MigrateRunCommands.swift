import ArgumentParser
import Foundation
import PeriscopeClient
import PeriscopeMigration
import PeriscopeModel
import PeriscopePostgres

/// The migration's own commands: start, backfill, status, abort.
struct MigrationOptions: ParsableArguments {
    @Option(help: "The migration's name (lower-case letters, digits, '_'); its slot and publication are periscope_NAME.")
    var name: String
    @Option(help: ArgumentHelp("Write the command's metrics (Prometheus text) to this file, replaced each second.", valueName: "path"))
    var metricsFile: String?

    var metrics: MigrationMetrics { MigrationMetrics(migration: name, path: metricsFile) }
}

/// Runs a migration command against a node and a source, with their failures as messages
/// and exit statuses.
func withMigration(_ client: ClientOptions, _ body: (MigrationStore) async throws -> Void) async throws {
    try await client.withClient { periscope in
        try await reportingSourceFailures { try await body(MigrationStore(client: periscope)) }
    }
}

extension MigrateCommand {
    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start migrating a source: checks, slot and snapshot, then the backfill.",
            discussion: """
                Checks the source first (Temporal's table, wal_level=logical, a role that may replicate, no slot or \\
                publication of this name) and changes nothing if a check fails. Then: each --namespace NAME=SOURCE_ID \\
                becomes a Periscope namespace with the source's id and its custom search attribute fields; a publication \\
                and a logical replication slot periscope_NAME (pgoutput) are made, the slot exporting a snapshot; the rows \\
                are planned in chunks and copied at that snapshot, each chunk recorded in the migration's state (kept in \\
                Periscope, namespace periscope-migrations). Kill it and run `migrate backfill` to go on.
                """
        )
        @OptionGroup var client: ClientOptions
        @OptionGroup var source: SourceOptions
        @OptionGroup var migration: MigrationOptions
        @Option(name: .customLong("namespace"), help: "NAME=SOURCE_ID: a Periscope namespace and the source namespace_id it takes (repeat).")
        var namespaces: [String] = []
        @Option(help: "Rows per backfill chunk.") var chunkRows = 20_000
        @Flag(help: "No slot: the engine writes both stores (MigratingVisibility with dualWrite); start makes the namespaces and plans the backfill, which runs with `migrate backfill` once the engine writes both.")
        var dualWrite = false
        @OptionGroup var backfill: BackfillOptions

        func validate() throws {
            _ = try mapping()
            guard (1...10_000_000).contains(chunkRows) else { throw ValidationError("--chunk-rows must be 1 ... 10000000") }
            try backfill.check()
        }

        func mapping() throws -> [String: String] {
            var mapping: [String: String] = [:]
            for pair in namespaces {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw ValidationError("--namespace '\(pair)' is not NAME=SOURCE_ID")
                }
                guard mapping[parts[0]] == nil, !mapping.values.contains(parts[1]) else {
                    throw ValidationError("--namespace \(pair): each namespace and each source id once")
                }
                mapping[parts[0]] = parts[1]
            }
            return mapping
        }

        func run() async throws {
            try await withMigration(client) { store in
                let started = try await MigrationSetup.start(.init(name: migration.name, conninfo: source.source, namespaces: try mapping(),
                                                                   chunkRows: chunkRows, dualWrite: dualWrite), store: store)
                guard !dualWrite else {
                    print("migration \(migration.name) (dual-write): \(started.state.rowsPlanned) rows in \(started.state.chunks.count) chunks planned; "
                        + "deploy the engine's dual-write (MigratingVisibility with dualWrite), then run `migrate backfill`")
                    return
                }
                print("migration \(migration.name): slot \(started.state.slot) at \(started.state.startLSN), snapshot \(started.state.snapshot ?? "-"), "
                    + "\(started.state.rowsPlanned) rows in \(started.state.chunks.count) chunks")
                // The exported snapshot lives as long as this connection: held until the copy ends.
                let holder = started.snapshotHolder
                defer { withExtendedLifetime(holder) {} }
                try await backfill.run(started.state, conninfo: source.source, store: store, metrics: migration.metrics)
            }
        }
    }

    struct Backfill: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resume a migration's backfill: copy the chunks not yet done.",
            discussion: """
                A chunk recorded done is not copied again; one cut short is copied again from its start (its copies \\
                change nothing the second time). The slot's exported snapshot is gone after a restart: the chunks left \\
                are read at a newer snapshot, which the capture's ordering keeps exact (docs/migration.md).
                """
        )
        @OptionGroup var client: ClientOptions
        @OptionGroup var source: SourceOptions
        @OptionGroup var migration: MigrationOptions
        @OptionGroup var backfill: BackfillOptions

        func validate() throws { try backfill.check() }

        func run() async throws {
            try await withMigration(client) { store in
                var state = try await store.existing(migration.name)
                guard !state.diedStarting else {
                    throw MigrationError.wrongPhase("migration \(migration.name) never finished starting: run `migrate start` again (it replaces it)")
                }
                guard state.phase == .backfilling || state.phase == .created else {
                    print("migration \(migration.name) is \(state.phase.rawValue): nothing to backfill")
                    return
                }
                state.snapshot = nil
                try await backfill.run(state, conninfo: source.source, store: store, metrics: migration.metrics)
            }
        }
    }

    struct Capture: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Follow the source's changes from the migration's slot and apply them.",
            discussion: """
                Streams from the slot's confirmed position (pgoutput), applies each committed transaction's changes in \
                order, and confirms a position to the server only once everything before it is applied (saved in the \
                migration's state first: a kill -9 streams those changes again, never skips them). Prints the position \
                applied, the WAL behind and the lag every second. --until-caught-up stops once everything the source \
                had written at the start is applied; --duration after that many seconds; else on SIGINT.
                """
        )
        @OptionGroup var client: ClientOptions
        @OptionGroup var source: SourceOptions
        @OptionGroup var migration: MigrationOptions
        @Flag(help: "Stop once caught up with the source's position at the start.") var untilCaughtUp = false
        @Option(help: "Seconds to run (0: until caught up or SIGINT).") var duration: Double = 0
        @Option(help: "Seconds without a word from the server (asked for one at half of it) before the connection is taken as gone.")
        var silenceTimeout: Double = 30

        func validate() throws {
            guard silenceTimeout >= 2 else { throw ValidationError("--silence-timeout must be at least 2 seconds") }
        }

        func run() async throws {
            try await withMigration(client) { store in
                let state = try await store.existing(migration.name)
                guard state.phase == .backfilled || state.phase == .capturing else {
                    throw MigrationError.wrongPhase("migration \(migration.name) is \(state.phase.rawValue): finish its backfill first (migrate backfill)")
                }
                guard !state.isDualWrite else {
                    throw MigrationError.wrongPhase("migration \(migration.name) is a dual-write migration: it has no slot to capture from")
                }
                var options = PeriscopeMigration.Capture.Options()
                options.silenceMax = .seconds(silenceTimeout)
                let capture = PeriscopeMigration.Capture(conninfo: source.source, store: store, state: state, options: options)
                let until: PeriscopeMigration.Capture.Until = untilCaughtUp ? .caughtUp : (duration > 0 ? .duration(.seconds(duration)) : .stopped)
                let metrics = migration.metrics
                let done = try await withProgress(report: { _ in
                    MigrationReport.capture(capture.progress)
                    metrics.capture(capture.progress)
                }, onInterrupt: capture.stop) {
                    try await capture.run(until: until)
                }
                print("capture stopped: confirmed through \(done.confirmedLSN), \(done.changesApplied) changes applied in all")
                let lags = capture.progress.lags
                if let p50 = lags.percentile(0.5), let p99 = lags.percentile(0.99), let worst = lags.percentile(1) {
                    func text(_ milliseconds: Double) -> String { milliseconds.isFinite ? "\(Int(milliseconds)) ms" : "over 60 s" }
                    print("capture lag (commit at the source to applied in Periscope) over \(lags.total) transactions: "
                        + "p50 \(text(p50)), p99 \(text(p99)), max \(text(worst))")
                }
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a migration's phase, progress and the source's slot.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var migration: MigrationOptions
        @Option(help: "The source, to show its slot (optional).") var source: String?

        func run() async throws {
            try await withMigration(client) { store in
                let state = try await store.existing(migration.name)
                print(MigrationReport.text(state))
                let routing = try await store.routing(migration.name)
                print("routing: " + state.namespaces.values.sorted().map { "\($0): \(routing.stage(of: $0).rawValue)" }.joined(separator: ", "))
                if let validation = try await store.document(ValidationRecord.self, migration: migration.name, part: ValidationRecord.part) {
                    print(validation.text(migration: migration.name).split(separator: "\n").first.map(String.init) ?? "")
                }
                if let source {
                    let slot = try await onPostgresThread { try MigrationReport.slotText(state, conninfo: source) }
                    print(slot)
                }
            }
        }
    }

    struct Abort: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop a migration for good: drop its replication slot and publication.",
            discussion: "The source's WAL is no longer kept for it. What was copied stays in Periscope, and so does the migration's state (its phase unchanged)."
        )
        @OptionGroup var client: ClientOptions
        @OptionGroup var source: SourceOptions
        @OptionGroup var migration: MigrationOptions

        func run() async throws {
            try await withMigration(client) { store in
                let state = try await store.existing(migration.name)
                try await onPostgresThread { [conninfo = source.source] in try PeriscopeMigration.Cutover.dropSlot(conninfo: conninfo, state: state) }
                print("migration \(migration.name): dropped slot and publication \(state.slot)")
            }
        }
    }
}

/// How a backfill runs.
struct BackfillOptions: ParsableArguments {
    @Option(help: "Connections copying at once.") var workers = 4
    @Option(help: "Rows per second read from the source, over all workers (0: no limit).") var rowsPerSecond: Double = 0

    func check() throws {
        guard (1...64).contains(workers) else { throw ValidationError("--workers must be 1 ... 64") }
        guard rowsPerSecond >= 0 else { throw ValidationError("--rows-per-second must not be negative") }
    }

    /// Copies the chunks left, printing progress (rows, rows/s, ETA) every second.
    func run(_ state: MigrationState, conninfo: String, store: MigrationStore, metrics: MigrationMetrics) async throws {
        var options = PeriscopeMigration.Backfill.Options()
        options.workers = workers
        options.rowsPerSecond = rowsPerSecond
        let backfill = PeriscopeMigration.Backfill(conninfo: conninfo, store: store, state: state, options: options)
        let started = ContinuousClock.now
        let copiedBefore = state.rowsCopied
        let done = try await withProgress(report: { _ in
            MigrationReport.progress(backfill.progress, since: started, copiedBefore: copiedBefore)
            metrics.backfill(backfill.progress)
        }) {
            try await backfill.run()
        }
        print("backfill done: \(done.rowsCopied) rows in \(done.chunks.count) chunks (\(done.rejectedCount) rejected) in "
            + String(format: "%.1f s", (ContinuousClock.now - started).seconds))
        for line in done.rejected.prefix(10) { print("  rejected: \(line)") }
    }
}
