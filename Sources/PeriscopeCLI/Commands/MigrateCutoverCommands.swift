import ArgumentParser
import Foundation
import PeriscopeAPI
import PeriscopeMigration
import PeriscopeModel

extension MigrateCommand {
    struct Cutover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a migration's namespaces to Periscope: --reads first, then --writes.",
            discussion: """
                Refused, changing nothing, unless the last validation is clean, covers the namespaces and is recent \
                (--validation-age-max), and a capture is streaming within --lag-bytes-max and --lag-seconds-max of the \
                source. --reads: reads come from Periscope, writes still go to the source. --writes (after --reads): the \
                import finishes above every position the capture confirmed, and writes go to Periscope, each written back \
                to the source. MigratingVisibility (the engine's side) and `migrate query` follow the switch within \
                seconds. `migrate rollback` goes back from either stage.
                """
        )
        @OptionGroup var client: ClientOptions
        @OptionGroup var source: SourceOptions
        @OptionGroup var migration: MigrationOptions
        @Flag(help: "Cut reads over.") var reads = false
        @Flag(help: "Cut writes over (reads must be already).") var writes = false
        @Option(name: .customLong("namespace"), help: "Only this namespace (repeat; default: every namespace of the migration).")
        var namespaces: [String] = []
        @Option(help: "The capture may be this many bytes of WAL behind.") var lagBytesMax: Int64 = 64 << 20
        @Option(help: "The capture may be this many seconds behind.") var lagSecondsMax: Double = 5
        @Option(help: "The last clean validation may be this many seconds old.") var validationAgeMax: Double = 3_600

        func validate() throws {
            guard reads != writes else { throw ValidationError("give one of --reads and --writes") }
            guard lagBytesMax >= 0, lagSecondsMax >= 0, validationAgeMax > 0 else { throw ValidationError("bounds must not be negative") }
        }

        func run() async throws {
            try await withMigration(client) { store in
                let state = try await store.existing(migration.name)
                var bounds = PeriscopeMigration.Cutover.Bounds()
                bounds.lagBytesMax = lagBytesMax
                bounds.lagSecondsMax = lagSecondsMax
                bounds.validationAgeMax = .seconds(validationAgeMax)
                let cutover = PeriscopeMigration.Cutover(conninfo: source.source, store: store, state: state, bounds: bounds)
                let routing = reads ? try await cutover.cutReads(namespaces) : try await cutover.cutWrites(namespaces)
                print(routing.history.suffix(max(1, namespaces.isEmpty ? state.namespaces.count : namespaces.count)).joined(separator: "\n"))
            }
        }
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a migration's namespaces back to the source, from either cutover stage.",
            discussion: """
                Reads and writes go to the source again. After the write cutover the source already holds every write \
                (each was written back to it); the namespace imports again, ordered by the source's log, so Periscope \
                keeps following the source through the capture. Run `migrate validate` after.
                """
        )
        @OptionGroup var client: ClientOptions
        @OptionGroup var source: SourceOptions
        @OptionGroup var migration: MigrationOptions
        @Option(name: .customLong("namespace"), help: "Only this namespace (repeat; default: every namespace of the migration).")
        var namespaces: [String] = []

        func run() async throws {
            try await withMigration(client) { store in
                let state = try await store.existing(migration.name)
                let routing = try await PeriscopeMigration.Cutover(conninfo: source.source, store: store, state: state).rollback(namespaces)
                print(routing.history.suffix(max(1, namespaces.isEmpty ? state.namespaces.count : namespaces.count)).joined(separator: "\n"))
            }
        }
    }

    struct Finish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End a migration whose writes are cut over: Periscope alone from now on.",
            discussion: """
                Every namespace must be at the write cutover. The engine's side stops writing back to the source, and the \
                source's slot and publication are dropped (its WAL is no longer kept for the migration). Stop the capture \
                first. There is no rollback after this.
                """
        )
        @OptionGroup var client: ClientOptions
        @OptionGroup var source: SourceOptions
        @OptionGroup var migration: MigrationOptions

        func run() async throws {
            try await withMigration(client) { store in
                let state = try await store.existing(migration.name)
                let routing = try await PeriscopeMigration.Cutover(conninfo: source.source, store: store, state: state).finish()
                print(routing.history.suffix(state.namespaces.count).joined(separator: "\n"))
                print("migration \(migration.name): finished; slot and publication \(state.slot) dropped")
            }
        }
    }

    struct MigratingQuery: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "query",
            abstract: "List or count a migrating namespace's executions where its routing says (source or Periscope).",
            discussion: "Prints which store answered, then one execution per line as JSON (list) or the count."
        )
        @OptionGroup var client: ClientOptions
        @OptionGroup var source: SourceOptions
        @OptionGroup var migration: MigrationOptions
        @Option(help: "The Periscope namespace.") var namespace: String
        @Flag(help: "Count instead of listing.") var count = false
        @Option(help: "Executions per page.") var pageSize = 100
        @Argument(help: "The List Filter query.") var query = ""

        func run() async throws {
            try await withMigration(client) { store in
                let visibility = MigratingVisibility(periscope: store.client, source: source.source, migration: migration.name)
                if count {
                    let counted = try await visibility.count(namespace: namespace, query: query)
                    print("from \(counted.from.rawValue): \(counted.count)")
                    return
                }
                let page = try await visibility.list(namespace: namespace, query: query, pageSize: pageSize)
                print("from \(page.from.rawValue): \(page.executions.count) executions")
                for execution in page.executions { print(try execution.jsonString()) }
            }
        }
    }
}
