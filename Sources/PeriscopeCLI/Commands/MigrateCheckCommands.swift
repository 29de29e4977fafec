import ArgumentParser
import Foundation
import PeriscopeMigration
import PeriscopeModel

extension MigrateCommand {
    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prove Periscope holds exactly the source's executions, or name the ones that differ.",
            discussion: """
                Per namespace, counts and checksums per bucket of start time are computed by the source's SQL and by \
                Periscope (ChecksumExecutions) and compared; a bucket that differs is cut smaller until both sides' \
                executions are listed, and each execution that differs is named by its key, with the fields that \
                differ. With the engine writing, an execution is reported only once the capture has confirmed the \
                source's position and the source kept its value meanwhile (run the capture alongside). The report is \
                kept in the migration's record (cutover requires a clean one). Exit status 0 if clean, 1 if executions \
                differ, 75 if some kept changing too fast to be compared.
                """
        )
        @OptionGroup var client: ClientOptions
        @OptionGroup var source: SourceOptions
        @OptionGroup var migration: MigrationOptions
        @Option(help: "Width of the first buckets, in seconds.") var bucketSeconds: Int64 = 3_600
        @Option(help: "A bucket with at most this many executions on each side is listed; a larger one is cut.") var listingMax = 20_000
        @Option(help: "Seconds to wait for the capture to confirm the source's position.") var settleTimeout: Double = 60
        @Option(help: "Differences named in the report, at most.") var differencesMax = 1_000

        func validate() throws {
            guard bucketSeconds >= 1 else { throw ValidationError("--bucket-seconds must be at least 1") }
            guard (1...99_999).contains(listingMax) else { throw ValidationError("--listing-max must be 1 ... 99999") }
            guard settleTimeout > 0 else { throw ValidationError("--settle-timeout must be positive") }
            guard differencesMax >= 0 else { throw ValidationError("--differences-max must not be negative") }
        }

        func run() async throws {
            var clean = true, unsettledOnly = false
            try await withMigration(client) { store in
                let state = try await store.existing(migration.name)
                guard state.phase == .backfilled || state.phase == .capturing else {
                    throw MigrationError.wrongPhase("migration \(migration.name) is \(state.phase.rawValue): validate once its backfill is done")
                }
                var options = Validation.Options()
                options.bucketSeconds = bucketSeconds
                options.listingMax = listingMax
                options.settleTimeout = .seconds(settleTimeout)
                options.differencesMax = differencesMax
                let report = try await Validation(conninfo: source.source, client: store.client, state: state, options: options).run()
                migration.metrics.validation(report)
                let record = ValidationRecord(report: report, at: .wallClockNow)
                print(record.text(migration: migration.name))
                try await store.save(record, migration: migration.name, part: ValidationRecord.part, version: record.finishedAt / 1_000)
                clean = report.isClean
                unsettledOnly = report.differencesCount == 0
            }
            if !clean { throw ExitCode(unsettledOnly ? 75 : 1) }
        }
    }
}

extension MigrateCommand {
    struct Shadow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run List Filter queries against the source and Periscope, page by page, and compare.",
            discussion: """
                Each query runs in the source as Temporal's SQL store runs it (its converter's SQL, its default order, \
                its keyset pages) and in Periscope, and the executions of each page are compared. A query that differs \
                is run again once the capture has confirmed the source's position, and reported only if it still \
                differs; a query Periscope extends beyond Temporal's SQL store (ORDER BY) is reported as not \
                comparable. --queries takes a file with a query per line (`count:` before a count; the project's \
                corpus is scripts/temporal/list-filter-corpus.txt) or, ending in .jsonl, a corpus of entries \
                {"query", "valid", "context"}. Exit status 0 if every comparable query agreed, 1 if not.
                """
        )
        @OptionGroup var client: ClientOptions
        @OptionGroup var source: SourceOptions
        @OptionGroup var migration: MigrationOptions
        @Option(help: "A file of queries (repeat).") var queries: [String] = []
        @Option(name: .customLong("namespace"), help: "Only this Periscope namespace (repeat; default: every namespace of the migration).")
        var namespaces: [String] = []
        @Option(help: "Executions per page.") var pageSize = 100
        @Option(help: "Pages compared per query, at most.") var pagesMax = 5
        @Option(help: "Seconds to wait for the capture to confirm the source's position.") var settleTimeout: Double = 60
        @Option(help: "The deployment's Temporal SQL converter: unified (Periscope's semantics) or legacy (Temporal's default, where CloseTime > X matches running executions).")
        var converter = "unified"

        func validate() throws {
            guard SQLFilter.Converter(rawValue: converter) != nil else { throw ValidationError("--converter must be unified or legacy") }
            guard !queries.isEmpty else { throw ValidationError("--queries FILE is required (scripts/temporal/list-filter-corpus.txt, or your own)") }
            guard (1...1_000).contains(pageSize) else { throw ValidationError("--page-size must be 1 ... 1000") }
            guard (1...1_000).contains(pagesMax) else { throw ValidationError("--pages-max must be 1 ... 1000") }
        }

        func run() async throws {
            var clean = true
            try await withMigration(client) { store in
                let state = try await store.existing(migration.name)
                for name in namespaces where !state.namespaces.values.contains(name) {
                    throw MigrationError.invalid("namespace \(name) is not part of migration \(migration.name)")
                }
                let corpus = QueryCorpus(entries: try queries.flatMap { try QueryCorpus.load($0).entries })
                var options = ShadowQueries.Options()
                options.pageSize = pageSize
                options.pagesMax = pagesMax
                options.settleTimeout = .seconds(settleTimeout)
                options.converter = SQLFilter.Converter(rawValue: converter) ?? .unified
                let report = try await ShadowQueries(conninfo: source.source, client: store.client, state: state, options: options)
                    .run(corpus, namespaces: namespaces.isEmpty ? nil : namespaces)
                print(report.text)
                migration.metrics.shadow(report)
                clean = report.isClean
            }
            if !clean { throw ExitCode(1) }
        }
    }
}
