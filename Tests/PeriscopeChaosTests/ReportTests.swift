import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import PeriscopeChaos
import Testing

@Suite struct RunSummaryTests {
    static let history = [H.write(.upsert, "a", 1, at: 0, to: 10), H.write(.upsert, "a", 2, at: 0, to: 20),
                          H.write(.upsert, "a", 3, .failed, at: 0, to: 1), H.write(.delete, "a", 4, .unknown, at: 0, to: nil),
                          H.read("a", 1, at: 0, to: 2.5)]

    @Test func countsAndPercentilesPerKind() throws {
        let summary = RunSummary(history: Self.history)
        #expect(summary.operations == 5)
        #expect(summary.rows.map(\.kind) == ["upsert", "delete", "read"])
        let upsert = summary.rows[0]
        #expect((upsert.ok, upsert.failed, upsert.unknown) == (2, 1, 0))
        #expect(upsert.latency == RunSummary.Latency(p50Ms: 10, p95Ms: 20, p99Ms: 20, maxMs: 20))
        #expect(summary.rows[1].latency == nil)
        let decoded = try JSONDecoder().decode(RunSummary.self, from: JSONEncoder().encode(summary))
        #expect(decoded == summary)
    }

    @Test func theTextIsAnAlignedTable() {
        let lines = RunSummary(history: Self.history).text.split(separator: "\n")
        #expect(lines.count == 5)
        #expect(lines[0] == "kind    ok  failed  unknown  p50 ms  p95 ms  p99 ms  max ms")
        #expect(lines[1] == "upsert   2       1        0    10.0    20.0    20.0    20.0")
        #expect(lines[2] == "delete   0       0        1       -       -       -       -")
        #expect(lines[4] == "total    3       1        1")
    }
}

@Suite struct PerformancePlotTests {
    static let faults = [FaultEvent(kind: .split, startMs: 2_000, endMs: 5_000, target: nil, blocked: [], lossPercent: nil),
                         FaultEvent(kind: .kill, startMs: 7_000, endMs: 9_500, target: 1, blocked: [], lossPercent: nil)]

    @Test func thePlotIsWellFormedSVGWithAShadedWindowPerFault() throws {
        let history = RandomRegisterHistory.make(seed: 3, keys: 20, operationsPerKey: 200)
            + [H.scan(["a"], at: 3_000, to: 3_400)]
        let svg = PerformancePlot.svg(history: history, faults: Self.faults, title: "seed 7 <3 nodes & \"loopback\">", durationMs: 12_000)
        let elements = try XMLElementCounter.parse(svg)
        #expect(elements.root == "svg")
        #expect(elements.faultRects == 2)
        #expect(elements.texts.contains("seed 7 <3 nodes & \"loopback\">"))
        #expect(elements.texts.contains("split (0 links cut)") && elements.texts.contains("kill n2"))
        #expect(elements.texts.contains("seconds since start") && elements.texts.contains("latency ms"))
        #expect(elements.polylines >= 4)
        #expect(svg == PerformancePlot.svg(history: history, faults: Self.faults, title: "seed 7 <3 nodes & \"loopback\">", durationMs: 12_000),
                "the same run gives the same bytes")
    }

    @Test func anEmptyRunStillDraws() throws {
        let elements = try XMLElementCounter.parse(PerformancePlot.svg(history: [], faults: [], title: "empty", durationMs: 0))
        #expect(elements.root == "svg" && elements.faultRects == 0)
    }
}

/// Parses XML (failing on anything ill-formed) and counts what the plot tests look for.
final class XMLElementCounter: NSObject, XMLParserDelegate {
    var root: String?
    var faultRects = 0
    var polylines = 0
    var texts: [String] = []
    private var currentText: String?

    struct Malformed: Error { var reason: String }

    static func parse(_ text: String) throws -> XMLElementCounter {
        let counter = XMLElementCounter()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = counter
        guard parser.parse() else { throw Malformed(reason: parser.parserError.map { "\($0)" } ?? "unknown") }
        return counter
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if root == nil { root = name }
        if name == "rect" && attributes["class"] == "fault" { faultRects += 1 }
        if name == "polyline" { polylines += 1 }
        if name == "text" { currentText = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        currentText? += string
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text", let text = currentText { texts.append(text) }
        currentText = nil
    }
}

@Suite struct FaultThroughputTests {
    @Test func ratesInsideAndOutsideTheWindows() {
        // 10 s run: 2 ok ops/s throughout, except 4-6 s where only one op succeeded.
        var history: [HistoryOperation] = []
        for millisecond in stride(from: 0, to: 10_000, by: 500) where !(4_000..<6_000).contains(millisecond) {
            history.append(H.write(.upsert, "k", Int64(millisecond), at: Double(millisecond), to: Double(millisecond) + 1))
        }
        history.append(H.write(.upsert, "k", 1, at: 4_100, to: 4_200))
        history.append(H.write(.upsert, "k", 2, .unknown, at: 5_000, to: nil))
        history.append(H.write(.upsert, "probe", 3, at: 10_500, to: 10_600))  // after the run: not counted
        let rates = FaultThroughput(history: history, windows: [(4_000, 6_000)], durationMs: 10_000)
        #expect(rates.during == [0.5])
        #expect(rates.quiet == 2)
    }
}
