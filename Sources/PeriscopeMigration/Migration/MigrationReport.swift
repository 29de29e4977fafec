import Foundation
import PeriscopeModel
import PeriscopePostgres

/// What `migrate status` and the progress lines print.
public enum MigrationReport {
    public static func text(_ state: MigrationState) -> String {
        var lines = ["migration \(state.name): \(state.phase.rawValue) (revision \(state.revision))",
                     "source: \(state.source), slot \(state.slot) from \(state.startLSN)",
                     "namespaces: " + state.namespaces.sorted { $0.value < $1.value }.map { "\($0.value) <- \($0.key)" }.joined(separator: ", "),
                     "backfill: \(state.chunksDone)/\(state.chunks.count) chunks, \(state.rowsCopied) of \(state.rowsPlanned) planned rows copied, "
                        + "\(state.rejectedCount) rejected"]
        for line in state.rejected.prefix(10) { lines.append("  rejected: \(line)") }
        lines.append("capture: confirmed through \(state.confirmedLSN), \(state.changesApplied) changes applied")
        return lines.joined(separator: "\n")
    }

    /// The slot as the source sees it: how much WAL it holds back.
    public static func slotText(_ state: MigrationState, conninfo: String) throws -> String {
        let connection = try PostgresConnection(conninfo)
        let slot = try connection.query("""
            SELECT active, coalesce(confirmed_flush_lsn::text, ''), pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint
            FROM pg_replication_slots WHERE slot_name = $1
            """, [state.slot])
        guard let row = slot.rows.first else { return "slot \(state.slot): not on the source (dropped?)" }
        return "slot \(state.slot): \(row[0] == "t" ? "streaming" : "idle"), confirmed through \(row[1] ?? "?"), "
            + "holding \(Int64(row[2] ?? "0") ?? 0) bytes of WAL"
    }

    /// One progress line on standard error: rows, rows per second, ETA.
    public static func progress(_ progress: Backfill.Progress, since started: ContinuousClock.Instant, copiedBefore: Int) {
        let seconds = max(0.001, (ContinuousClock.now - started).seconds)
        let rate = Double(progress.rowsCopied - copiedBefore) / seconds
        let left = max(0, progress.rowsPlanned - progress.rowsCopied)
        let eta = rate > 0 ? String(format: "%.0f s", Double(left) / rate) : "?"
        let width = 30
        let filled = progress.rowsPlanned == 0 ? width : min(width, width * progress.rowsCopied / progress.rowsPlanned)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data(("backfill [\(bar)] \(progress.rowsCopied)/\(progress.rowsPlanned) rows, \(Int(rate)) rows/s, "
            + "\(progress.chunksDone)/\(progress.chunks) chunks, ETA \(eta)\n").utf8))
    }

    /// One capture progress line on standard error.
    public static func capture(_ progress: Capture.Progress) {
        let behind = progress.serverEnd.value > progress.applied.value ? progress.serverEnd.value - progress.applied.value : 0
        FileHandle.standardError.write(Data(("capture: applied through \(progress.applied), \(behind) bytes of WAL behind, "
            + String(format: "lag %.2f s, ", progress.lagSeconds) + "\(progress.changesApplied) changes\n").utf8))
    }
}
