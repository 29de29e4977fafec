import PeriscopePostgres

/// How far the capture has come, as the source sees it: its slot's confirmed position.
enum CaptureWatermark {
    /// Waits until the slot has confirmed the source's current WAL position (the capture
    /// applied every change committed so far). With no capture streaming from the slot
    /// (stopped, or the slot dropped) there is nothing to wait for: the caller compares the
    /// stores as they are, and a change not captured yet shows as a difference.
    static func wait(conninfo: String, slot: String, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        let target = try await onPostgresThread {
            try LSN.current(on: PostgresConnection(conninfo))
        }
        while true {
            let state = try await onPostgresThread { () -> (active: Bool, confirmed: LSN)? in
                let rows = try PostgresConnection(conninfo).query("SELECT active::text, confirmed_flush_lsn::text FROM pg_replication_slots "
                    + "WHERE slot_name = $1", [slot]).rows
                guard let row = rows.first else { return nil }
                return (row[0] == "true", row[1].flatMap(LSN.init) ?? .zero)
            }
            guard let state, state.active, state.confirmed < target else { return }
            guard ContinuousClock.now < deadline else {
                throw MigrationError.wrongPhase("the capture has not confirmed the source's position \(target) within \(timeout) "
                    + "(slot \(slot) is at \(state.confirmed)): is it keeping up? (migrate status)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
