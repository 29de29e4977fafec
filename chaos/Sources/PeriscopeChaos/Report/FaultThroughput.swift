/// How much work the cluster still did while each fault lasted: acknowledged operations per
/// second invoked inside each fault's window, beside the same rate outside every window
/// (the quiet rate). The availability checker judges the recovery after a heal; this shows
/// availability during the fault, where a minority fault should leave most of the rate.
public struct FaultThroughput: Codable, Equatable, Sendable {
    /// Per window, in the order given.
    public var during: [Double]
    public var quiet: Double

    /// `windows` in milliseconds since the run's start; operations invoked at or after
    /// `durationMs` (the harness's own probes and final reads) are not counted.
    public init(history: [HistoryOperation], windows: [(startMs: Int, endMs: Int)], durationMs: Int) {
        let acknowledged = history.filter { $0.outcome == .ok && $0.invokedNanoseconds < Int64(durationMs) * 1_000_000 }
            .map { Int($0.invokedNanoseconds / 1_000_000) }
        during = windows.map { window in
            let seconds = Double(max(1, window.endMs - window.startMs)) / 1_000
            return Double(acknowledged.filter { $0 >= window.startMs && $0 < window.endMs }.count) / seconds
        }
        let inside = acknowledged.filter { time in windows.contains { time >= $0.startMs && time < $0.endMs } }.count
        let faultMs = windows.reduce(0) { $0 + max(0, min($1.endMs, durationMs) - $1.startMs) }
        let quietSeconds = Double(max(1, durationMs - faultMs)) / 1_000
        quiet = Double(acknowledged.count - inside) / quietSeconds
    }
}
