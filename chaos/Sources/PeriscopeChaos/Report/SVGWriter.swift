/// Builds an SVG document as text: a few primitives, every attribute value and text escaped,
/// numbers with a fixed precision so the same run gives the same bytes.
struct SVGWriter {
    private var body: [String] = []
    private let width: Double
    private let height: Double

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
        body.append("<rect x=\"0\" y=\"0\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" fill=\"#fff\"/>")
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, attributes: String) {
        body.append("<rect x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" width=\"\(Self.number(width))\""
            + " height=\"\(Self.number(height))\" \(attributes)/>")
    }

    mutating func line(from a: (Double, Double), to b: (Double, Double), color: String) {
        body.append("<line x1=\"\(Self.number(a.0))\" y1=\"\(Self.number(a.1))\" x2=\"\(Self.number(b.0))\""
            + " y2=\"\(Self.number(b.1))\" stroke=\"\(Self.escape(color))\" stroke-width=\"1\"/>")
    }

    /// Nothing for fewer than one point; a single point becomes a dot.
    mutating func polyline(_ points: [(Double, Double)], color: String, dashed: Bool) {
        guard let first = points.first else { return }
        if points.count == 1 {
            body.append("<circle cx=\"\(Self.number(first.0))\" cy=\"\(Self.number(first.1))\" r=\"1.5\" fill=\"\(Self.escape(color))\"/>")
            return
        }
        let coordinates = points.map { "\(Self.number($0.0)),\(Self.number($0.1))" }.joined(separator: " ")
        body.append("<polyline points=\"\(coordinates)\" fill=\"none\" stroke=\"\(Self.escape(color))\" stroke-width=\"1.5\""
            + (dashed ? " stroke-dasharray=\"4,3\"" : "") + "/>")
    }

    mutating func text(_ content: String, x: Double, y: Double, size: Double, anchor: String = "start",
                       weight: String = "normal", color: String = "#000", rotate: Double? = nil) {
        let transform = rotate.map { " transform=\"rotate(\(Self.number($0)) \(Self.number(x)) \(Self.number(y)))\"" } ?? ""
        body.append("<text x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" font-family=\"sans-serif\" font-size=\"\(Self.number(size))\""
            + " text-anchor=\"\(Self.escape(anchor))\" font-weight=\"\(Self.escape(weight))\" fill=\"\(Self.escape(color))\"\(transform)>"
            + Self.escape(content) + "</text>")
    }

    func finish() -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\""
            + " viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\">\n"
            + body.joined(separator: "\n") + "\n</svg>\n"
    }

    /// XML's five special characters, and the control characters XML 1.0 forbids.
    static func escape(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            case "\t", "\n", "\r": escaped.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20: escaped += "\u{FFFD}"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// Up to two decimals, trailing zeros dropped: "12", "0.5", "0.01".
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let hundredths = Int64((value * 100).rounded())
        let sign = hundredths < 0 ? "-" : ""
        let magnitude = abs(hundredths)
        let fraction = magnitude % 100
        if fraction == 0 { return "\(sign)\(magnitude / 100)" }
        let digits = fraction % 10 == 0 ? "\(fraction / 10)" : (fraction < 10 ? "0\(fraction)" : "\(fraction)")
        return "\(sign)\(magnitude / 100).\(digits)"
    }
}
