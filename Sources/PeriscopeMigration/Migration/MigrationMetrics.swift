import Foundation
import Metrics
import Prometheus

/// What a migration command exports, in Prometheus's text format, to a file rewritten each
/// second (`--metrics-file`; the textfile collector of Prometheus's node exporter reads such
/// files): a batch command has no port to be scraped on. Every series carries the migration's
/// name; the file is replaced whole (written beside, then renamed), so a reader never sees
/// half of it.
public final class MigrationMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    let migration: String
    let path: String?

    public init(migration: String, path: String?) {
        self.migration = migration
        self.path = path
        factory = PrometheusMetricsFactory(registry: registry)
    }

    private func set(_ name: String, _ value: Double, _ dimensions: [(String, String)] = []) {
        Gauge(label: name, dimensions: [("migration", migration)] + dimensions, factory: factory).record(value)
    }

    public func backfill(_ progress: Backfill.Progress) {
        set("periscope_migration_backfill_rows_copied", Double(progress.rowsCopied))
        set("periscope_migration_backfill_rows_planned", Double(progress.rowsPlanned))
        set("periscope_migration_backfill_chunks_done", Double(progress.chunksDone))
        set("periscope_migration_backfill_chunks", Double(progress.chunks))
        set("periscope_migration_rows_rejected", Double(progress.rejected))
        write()
    }

    public func capture(_ progress: Capture.Progress) {
        let behind = progress.serverEnd.value > progress.applied.value ? progress.serverEnd.value - progress.applied.value : 0
        set("periscope_migration_capture_changes_applied", Double(progress.changesApplied))
        set("periscope_migration_capture_applied_lsn", Double(progress.applied.value))
        set("periscope_migration_capture_wal_bytes_behind", Double(behind))
        set("periscope_migration_capture_lag_seconds", progress.lagSeconds)
        for (quantile, fraction) in [("0.5", 0.5), ("0.99", 0.99)] {
            if let milliseconds = progress.lags.percentile(fraction), milliseconds.isFinite {
                set("periscope_migration_capture_transaction_lag_seconds", milliseconds / 1_000, [("quantile", quantile)])
            }
        }
        write()
    }

    public func validation(_ report: Validation.Report) {
        set("periscope_migration_validation_differences", Double(report.differencesCount))
        set("periscope_migration_validation_unsettled", Double(report.unsettledCount))
        set("periscope_migration_validation_seconds", report.seconds)
        for namespace in report.namespaces {
            set("periscope_migration_validation_executions", Double(namespace.sourceExecutions), [("namespace", namespace.name), ("store", "source")])
            set("periscope_migration_validation_executions", Double(namespace.periscopeExecutions), [("namespace", namespace.name), ("store", "periscope")])
            set("periscope_migration_validation_buckets_differing", Double(namespace.bucketsDiffering), [("namespace", namespace.name)])
        }
        write()
    }

    public func shadow(_ report: ShadowQueries.Report) {
        for (outcome, count) in [("agreed", report.agreed), ("differs", report.differing), ("not_comparable", report.notComparable),
                                 ("refused", report.refused)] {
            set("periscope_migration_shadow_queries", Double(count), [("outcome", outcome)])
        }
        write()
    }

    /// The exposition, as written to the file.
    public var text: String { String(decoding: registry.emitToBuffer(), as: UTF8.self) }

    private func write() {
        guard let path else { return }
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else { return }
        _ = rename(temporary, path)
    }
}
