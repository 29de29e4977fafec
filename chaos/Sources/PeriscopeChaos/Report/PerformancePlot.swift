import Foundation

/// A run's performance graph as a self-contained SVG, after Jepsen's: throughput on top
/// (acknowledged operations per second, and those that failed or are unknown), latency below
/// (per-second p50 and p99 on a log scale), both over seconds since the run's start, with
/// each fault's window shaded and named so a dip lines up with its cause.
public enum PerformancePlot {
    /// `history` times are nanoseconds since the run's start; `durationMs` is the run's length
    /// (the x axis extends further if operations completed later).
    public static func svg(history: [HistoryOperation], faults: [FaultEvent], title: String, durationMs: Int) -> String {
        let lastSecond = history.map { Double($0.completedNanoseconds ?? $0.invokedNanoseconds) / 1e9 }.max() ?? 0
        let seconds = max(1, Int(max(Double(durationMs) / 1000, lastSecond).rounded(.up)))
        let layout = PlotLayout(seconds: seconds)
        var svg = SVGWriter(width: PlotLayout.width, height: PlotLayout.height)
        svg.text(title, x: PlotLayout.width / 2, y: 24, size: 16, anchor: "middle", weight: "bold")
        drawFaults(faults, layout: layout, into: &svg)
        drawThroughput(history, layout: layout, into: &svg)
        drawLatency(history, layout: layout, into: &svg)
        drawLegend(layout: layout, into: &svg)
        return svg.finish()
    }

    /// The series drawn: acknowledged operations by group, then the rest.
    enum Series: CaseIterable {
        case writes, reads, listings, notAcknowledged

        var label: String {
            switch self {
            case .writes: "writes"
            case .reads: "reads"
            case .listings: "scans+counts"
            case .notAcknowledged: "failed/unknown"
            }
        }

        var color: String {
            switch self {
            case .writes: "#1f77b4"
            case .reads: "#2ca02c"
            case .listings: "#9467bd"
            case .notAcknowledged: "#d62728"
            }
        }

        static func of(_ operation: HistoryOperation) -> Series {
            guard operation.outcome == .ok else { return .notAcknowledged }
            switch operation.kind {
            case .start, .upsert, .close, .delete: return .writes
            case .read: return .reads
            case .scan, .count: return .listings
            }
        }
    }

    static func drawFaults(_ faults: [FaultEvent], layout: PlotLayout, into svg: inout SVGWriter) {
        for fault in faults {
            let x0 = layout.x(Double(fault.startMs) / 1000)
            let x1 = layout.x(Double(fault.endMs) / 1000)
            let color = faultColor(fault.kind)
            svg.rect(x: x0, y: PlotLayout.throughputTop, width: max(1, x1 - x0),
                     height: PlotLayout.latencyBottom - PlotLayout.throughputTop,
                     attributes: "class=\"fault\" fill=\"\(color)\" fill-opacity=\"0.18\"")
            svg.text(fault.label, x: x0 + 3, y: PlotLayout.throughputTop + 12, size: 10, color: color)
        }
    }

    /// A colour per kind, by its place among all kinds, so a new kind needs no change here.
    static func faultColor(_ kind: NemesisKind) -> String {
        let palette = ["#ff7f0e", "#e377c2", "#8c564b", "#bcbd22", "#d62728", "#17becf", "#7f7f7f", "#aec7e8"]
        return palette[(NemesisKind.allCases.firstIndex(of: kind) ?? 0) % palette.count]
    }

    static func drawThroughput(_ history: [HistoryOperation], layout: PlotLayout, into svg: inout SVGWriter) {
        var counts = Dictionary(uniqueKeysWithValues: Series.allCases.map { ($0, [Double](repeating: 0, count: layout.seconds)) })
        for operation in history {
            let second = layout.bucket(operation.completedNanoseconds ?? operation.invokedNanoseconds)
            counts[Series.of(operation)]![second] += 1
        }
        let top = PlotAxis.niceCeiling(counts.values.flatMap { $0 }.max() ?? 0)
        let y = { (value: Double) in PlotLayout.throughputBottom - value / top * (PlotLayout.throughputBottom - PlotLayout.throughputTop) }
        PlotAxis.drawLinearY(top: top, y: y, label: "ops/s", layout: layout, into: &svg)
        PlotAxis.drawX(layout: layout, bottom: PlotLayout.throughputBottom, labelled: false, into: &svg)
        for series in Series.allCases {
            let points = counts[series]!.enumerated().map { (layout.x(Double($0.offset) + 0.5), y($0.element)) }
            svg.polyline(points, color: series.color, dashed: false)
        }
    }

    static func drawLatency(_ history: [HistoryOperation], layout: PlotLayout, into svg: inout SVGWriter) {
        var samples: [Series: [[Double]]] = [:]
        for operation in history where operation.outcome == .ok {
            guard let completed = operation.completedNanoseconds else { continue }
            let series = Series.of(operation)
            samples[series, default: Array(repeating: [], count: layout.seconds)][layout.bucket(operation.invokedNanoseconds)]
                .append(max(PlotAxis.latencyFloorMs, Double(completed - operation.invokedNanoseconds) / 1e6))
        }
        let all = samples.values.flatMap { $0.flatMap { $0 } }
        let (low, high) = PlotAxis.decades(min: all.min() ?? 1, max: all.max() ?? 1)
        let y = { (value: Double) in
            PlotLayout.latencyBottom - (log10(value) - low) / (high - low) * (PlotLayout.latencyBottom - PlotLayout.latencyTop)
        }
        PlotAxis.drawLogY(decades: low...high, y: y, label: "latency ms", layout: layout, into: &svg)
        PlotAxis.drawX(layout: layout, bottom: PlotLayout.latencyBottom, labelled: true, into: &svg)
        for series in Series.allCases {
            guard let buckets = samples[series] else { continue }
            for (quantile, dashed) in [(0.5, false), (0.99, true)] {
                // A second without operations breaks the line rather than bridging it.
                var run: [(Double, Double)] = []
                for (second, values) in buckets.enumerated() {
                    guard !values.isEmpty else {
                        svg.polyline(run, color: series.color, dashed: dashed)
                        run = []
                        continue
                    }
                    run.append((layout.x(Double(second) + 0.5), y(PlotAxis.quantile(values, quantile))))
                }
                svg.polyline(run, color: series.color, dashed: dashed)
            }
        }
    }

    static func drawLegend(layout: PlotLayout, into svg: inout SVGWriter) {
        let x = PlotLayout.width - PlotLayout.legendWidth + 16
        var y = PlotLayout.throughputTop + 10
        for series in Series.allCases {
            svg.polyline([(x, y - 4), (x + 24, y - 4)], color: series.color, dashed: false)
            svg.text(series.label, x: x + 30, y: y, size: 12)
            y += 20
        }
        y = PlotLayout.latencyTop + 10
        svg.polyline([(x, y - 4), (x + 24, y - 4)], color: "#444", dashed: false)
        svg.text("p50", x: x + 30, y: y, size: 12)
        svg.polyline([(x, y + 16), (x + 24, y + 16)], color: "#444", dashed: true)
        svg.text("p99", x: x + 30, y: y + 20, size: 12)
        svg.text("shaded: faults", x: x, y: y + 44, size: 12)
    }
}
