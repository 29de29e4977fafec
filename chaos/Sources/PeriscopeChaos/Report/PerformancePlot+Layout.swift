import Foundation

/// Where the plot's parts go, in SVG user units, and seconds to x.
struct PlotLayout {
    static let width = 1100.0
    static let height = 660.0
    static let left = 80.0
    static let legendWidth = 170.0
    static let throughputTop = 50.0
    static let throughputBottom = 300.0
    static let latencyTop = 340.0
    static let latencyBottom = 600.0

    /// Whole seconds on the x axis, each a bucket.
    let seconds: Int

    var right: Double { Self.width - Self.legendWidth }

    func x(_ second: Double) -> Double {
        Self.left + min(max(second, 0), Double(seconds)) / Double(seconds) * (right - Self.left)
    }

    func bucket(_ nanoseconds: Int64) -> Int {
        min(max(Int(nanoseconds / 1_000_000_000), 0), seconds - 1)
    }
}

/// Axes, ticks and the scales' arithmetic.
enum PlotAxis {
    /// Latencies below this are drawn at it, so a log scale has a floor.
    static let latencyFloorMs = 0.01

    /// The smallest 1, 2 or 5 × 10ⁿ at or above `value` (at least 1).
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 1 else { return 1 }
        let decade = pow(10, floor(log10(value)))
        return [1.0, 2, 5, 10].map { $0 * decade }.first { $0 >= value }!
    }

    /// Log₁₀ of the decades around the values: at least one decade.
    static func decades(min low: Double, max high: Double) -> (Double, Double) {
        let bottom = floor(log10(low))
        return (bottom, Swift.max(ceil(log10(high)), bottom + 1))
    }

    /// Nearest rank.
    static func quantile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        return sorted[Swift.max(0, Swift.min(sorted.count - 1, Int((q * Double(sorted.count)).rounded(.up)) - 1))]
    }

    static func drawX(layout: PlotLayout, bottom: Double, labelled: Bool, into svg: inout SVGWriter) {
        svg.line(from: (PlotLayout.left, bottom), to: (layout.right, bottom), color: "#000")
        let step = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600].first { layout.seconds / $0 <= 12 } ?? 7200
        for second in stride(from: 0, through: layout.seconds, by: step) {
            let x = layout.x(Double(second))
            svg.line(from: (x, bottom), to: (x, bottom + 5), color: "#000")
            if labelled { svg.text("\(second)", x: x, y: bottom + 18, size: 11, anchor: "middle") }
        }
        if labelled {
            svg.text("seconds since start", x: (PlotLayout.left + layout.right) / 2, y: bottom + 38, size: 12, anchor: "middle")
        }
    }

    static func drawLinearY(top: Double, y: (Double) -> Double, label: String, layout: PlotLayout, into svg: inout SVGWriter) {
        drawYLine(from: y(0), to: y(top), label: label, into: &svg)
        for tick in 0...4 {
            let value = top * Double(tick) / 4
            tickY(y(value), text: SVGWriter.number(value), layout: layout, into: &svg)
        }
    }

    static func drawLogY(decades: ClosedRange<Double>, y: (Double) -> Double, label: String, layout: PlotLayout,
                         into svg: inout SVGWriter) {
        drawYLine(from: y(pow(10, decades.lowerBound)), to: y(pow(10, decades.upperBound)), label: label, into: &svg)
        for decade in Int(decades.lowerBound)...Int(decades.upperBound) {
            let value = pow(10, Double(decade))
            tickY(y(value), text: SVGWriter.number(value), layout: layout, into: &svg)
        }
    }

    private static func drawYLine(from bottom: Double, to top: Double, label: String, into svg: inout SVGWriter) {
        svg.line(from: (PlotLayout.left, bottom), to: (PlotLayout.left, top), color: "#000")
        svg.text(label, x: 18, y: (bottom + top) / 2, size: 12, anchor: "middle", rotate: -90)
    }

    /// A tick with its label, and a faint grid line across the panel.
    private static func tickY(_ y: Double, text: String, layout: PlotLayout, into svg: inout SVGWriter) {
        svg.line(from: (PlotLayout.left - 5, y), to: (PlotLayout.left, y), color: "#000")
        svg.line(from: (PlotLayout.left, y), to: (layout.right, y), color: "#ddd")
        svg.text(text, x: PlotLayout.left - 8, y: y + 4, size: 11, anchor: "end")
    }
}
