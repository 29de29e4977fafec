import Foundation
import PeriscopeModel

/// The last validation of a migration, kept in its record (part "validation") beside its
/// state: what the cutover checks, and what `migrate status` shows.
public struct ValidationRecord: Codable, Sendable, Equatable {
    public var report: Validation.Report
    /// When it finished, in nanoseconds since the epoch.
    public var finishedAt: Int64

    /// Its run id in the migration's record.
    public static let part = "validation"

    public init(report: Validation.Report, at time: Timestamp) {
        self.report = report
        finishedAt = time.nanosecondsSinceEpoch
    }

    public var finished: Timestamp { Timestamp(nanosecondsSinceEpoch: finishedAt) }

    public func text(migration: String) -> String {
        let verdict = report.isClean ? "clean" : "\(report.differencesCount) differing, \(report.unsettledCount) unsettled"
        var lines = ["validation of migration \(migration) at \(finished.rfc3339): \(verdict) (" + String(format: "%.1f s", report.seconds) + ")"]
        for namespace in report.namespaces {
            lines.append("  namespace \(namespace.name): \(namespace.sourceExecutions) executions in the source, "
                + "\(namespace.periscopeExecutions) in Periscope; \(namespace.buckets) buckets, \(namespace.bucketsDiffering) differed at first; "
                + "\(namespace.differencesCount) executions differ")
            if namespace.drillDownStopped {
                lines.append("    the drill-down stopped at its bound: at least \(namespace.differencesCount) differ, maybe more")
            }
            for difference in namespace.differences { lines.append("    \(difference)") }
            if namespace.differencesCount > namespace.differences.count {
                lines.append("    ... and \(namespace.differencesCount - namespace.differences.count) more")
            }
            for key in namespace.unsettled.prefix(20) { lines.append("    unsettled (changing on every check): \(key)") }
        }
        return lines.joined(separator: "\n")
    }
}
