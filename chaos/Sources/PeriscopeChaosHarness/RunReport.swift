import Foundation
import PeriscopeChaos

/// A run's report: `report.txt` (for people), `report.json`, `history.jsonl` (one operation
/// per line) and `plot.svg` (throughput and latency over time, faults shaded), in the run's
/// directory beside the nodes' logs.
struct RunReport: Codable {
    var seed: UInt64
    var topology: String
    var nodes: Int
    var durationMs: Int
    var nemeses: [String]
    var faults: [AppliedFault]
    var summary: RunSummary
    var checks: [CheckResult]
    var recoverySeconds: [Double?]
    /// Acknowledged operations per second during each fault, and outside them (nil in
    /// reports written before it was measured).
    var throughput: FaultThroughput?
    var directory: String

    var passed: Bool { checks.allSatisfy(\.passed) }
    var failedCheckers: [String] { checks.filter { !$0.passed }.map(\.checker) }

    var text: String {
        var lines = [
            "Periscope chaos run: seed \(seed), \(topology) (\(nodes) nodes), \(durationMs / 1_000) s, nemeses \(nemeses.joined(separator: ", "))",
            "verdict: \(passed ? "PASS" : "FAIL (\(failedCheckers.joined(separator: ", ")))")",
            "",
            "faults:",
        ]
        for (index, (fault, recovery)) in zip(faults, recoverySeconds).enumerated() {
            let window = String(format: "%6.1f – %6.1f s", Double(fault.appliedMs) / 1_000, Double(fault.healedMs ?? fault.appliedMs) / 1_000)
            let recovered = recovery.map { String(format: "writes again after %.2f s", $0) } ?? "no write after the heal"
            let rate = throughput.map { String(format: "%5.0f ok/s during", $0.during[index]) + "  " } ?? ""
            lines.append("  \(window)  \(fault.event.label.padding(toLength: 34, withPad: " ", startingAt: 0))  \(rate)\(recovered)"
                + (fault.problem.map { "  PROBLEM: \($0)" } ?? ""))
        }
        if let throughput, !faults.isEmpty { lines.append(String(format: "  outside the faults: %.0f ok/s", throughput.quiet)) }
        if faults.isEmpty { lines.append("  none") }
        lines += ["", "operations:", summary.text, "", "checkers:"]
        for check in checks {
            lines.append("  \(check.passed ? "PASS" : "FAIL")  \(check.checker): \(check.summary)")
            lines += check.evidence.map { "        \($0)" }
        }
        lines += ["", "files: report.json, history.jsonl, plot.svg, n<id>/node.log"]
        return lines.joined(separator: "\n") + "\n"
    }

    func write(history: [HistoryOperation]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: directory + "/report.json"))
        try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/report.txt"))
        let lines = JSONEncoder()
        lines.outputFormatting = [.sortedKeys]
        var jsonl = Data()
        for operation in history {
            jsonl.append(try lines.encode(operation))
            jsonl.append(0x0A)
        }
        try jsonl.write(to: URL(fileURLWithPath: directory + "/history.jsonl"))
        let svg = PerformancePlot.svg(history: history, faults: faults.map { var event = $0.event; event.startMs = $0.appliedMs; event.endMs = $0.healedMs ?? durationMs; return event },
                                      title: "Periscope chaos: seed \(seed), \(topology), \(nemeses.joined(separator: ", "))",
                                      durationMs: durationMs)
        try Data(svg.utf8).write(to: URL(fileURLWithPath: directory + "/plot.svg"))
    }
}
