/// What a run did, for its report: operations by kind and outcome, and the latency of the
/// acknowledged ones.
public struct RunSummary: Codable, Equatable, Sendable {
    public struct Latency: Codable, Equatable, Sendable {
        public var p50Ms: Double
        public var p95Ms: Double
        public var p99Ms: Double
        public var maxMs: Double
    }

    public struct Row: Codable, Equatable, Sendable {
        /// A `HistoryOperation.Kind`'s raw value.
        public var kind: String
        public var ok: Int
        public var failed: Int
        public var unknown: Int
        /// Of the acknowledged operations with a completion; nil if there are none.
        public var latency: Latency?

        public var total: Int { ok + failed + unknown }
    }

    /// One row per kind the history holds, in the order writes, reads, listings.
    public var rows: [Row]
    public var operations: Int

    static let kindOrder: [HistoryOperation.Kind] = [.start, .upsert, .close, .delete, .read, .scan, .count]

    public init(history: [HistoryOperation]) {
        let byKind = Dictionary(grouping: history, by: \.kind)
        rows = Self.kindOrder.compactMap { kind in
            guard let operations = byKind[kind] else { return nil }
            let latencies = operations.filter { $0.outcome == .ok }.compactMap { operation in
                operation.completedNanoseconds.map { Double($0 - operation.invokedNanoseconds) / 1e6 }
            }
            return Row(kind: kind.rawValue,
                       ok: operations.filter { $0.outcome == .ok }.count,
                       failed: operations.filter { $0.outcome == .failed }.count,
                       unknown: operations.filter { $0.outcome == .unknown }.count,
                       latency: Self.latency(latencies))
        }
        operations = history.count
    }

    /// Nearest-rank percentiles: each is a latency some operation had.
    static func latency(_ milliseconds: [Double]) -> Latency? {
        guard !milliseconds.isEmpty else { return nil }
        let sorted = milliseconds.sorted()
        func percentile(_ p: Double) -> Double {
            sorted[max(0, min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))]
        }
        return Latency(p50Ms: percentile(50), p95Ms: percentile(95), p99Ms: percentile(99), maxMs: sorted.last!)
    }

    /// An aligned table, one line per kind and a total.
    public var text: String {
        let header = ["kind", "ok", "failed", "unknown", "p50 ms", "p95 ms", "p99 ms", "max ms"]
        var lines = rows.map { row in
            [row.kind, "\(row.ok)", "\(row.failed)", "\(row.unknown)"]
                + (row.latency.map { [$0.p50Ms, $0.p95Ms, $0.p99Ms, $0.maxMs].map(Self.format) } ?? Array(repeating: "-", count: 4))
        }
        lines.append(["total", "\(rows.reduce(0) { $0 + $1.ok })", "\(rows.reduce(0) { $0 + $1.failed })",
                      "\(rows.reduce(0) { $0 + $1.unknown })", "", "", "", ""])
        let all = [header] + lines
        let widths = header.indices.map { column in all.map { $0[column].count }.max()! }
        return all.map { cells in
            cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell  // names left, numbers right
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n") + "\n"
    }

    /// One decimal, without Foundation's formatting.
    static func format(_ milliseconds: Double) -> String {
        let tenths = Int64((milliseconds * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
