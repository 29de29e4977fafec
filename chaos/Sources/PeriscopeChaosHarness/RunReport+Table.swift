import Foundation
import PeriscopeChaos

extension RunReport {
    /// Every `*/report.json` one level under `directory`, by seed.
    static func load(under directory: String) throws -> [RunReport] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        return try names.compactMap { name -> RunReport? in
            let path = directory + "/" + name + "/report.json"
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            return try JSONDecoder().decode(RunReport.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        }.sorted { ($0.topology, $0.seed) < ($1.topology, $1.seed) }
    }

    /// Several seeds' outcomes: one row per seed, then one per nemesis (how often it was
    /// injected, the recovery after its heals, and the failed runs it was part of).
    static func table(_ reports: [RunReport]) -> String {
        var lines = ["seed  verdict  faults  operations  max recovery  failed checkers"]
        for report in reports {
            let recovery = report.recoverySeconds.compactMap { $0 }.max().map { String(format: "%.2f s", $0) } ?? "-"
            lines.append(["\(report.seed)".leftPadded(4), (report.passed ? "PASS" : "FAIL").padding(toLength: 7, withPad: " ", startingAt: 0),
                          "\(report.faults.count)".leftPadded(6), "\(report.summary.operations)".leftPadded(10), recovery.leftPadded(12),
                          report.failedCheckers.joined(separator: ", ")].joined(separator: "  "))
        }
        lines += ["", "nemesis        injected  not applied  recovery p50  recovery max  ok/s during (quiet)  in failed runs"]
        for kind in NemesisKind.allCases {
            var injected = 0, problems = 0, failedRuns = 0
            var recoveries: [Double] = []
            var rates: [Double] = [], quiet: [Double] = []
            for report in reports {
                if let throughput = report.throughput {
                    rates += zip(report.faults, throughput.during).filter { $0.0.event.kind == kind }.map(\.1)
                    if report.faults.contains(where: { $0.event.kind == kind }) { quiet.append(throughput.quiet) }
                }
                let mine = zip(report.faults, report.recoverySeconds).filter { $0.0.event.kind == kind }
                injected += mine.count
                problems += mine.filter { $0.0.problem != nil }.count
                recoveries += mine.compactMap(\.1)
                if !mine.isEmpty && !report.passed { failedRuns += 1 }
            }
            guard injected > 0 else { continue }
            recoveries.sort()
            let p50 = recoveries.isEmpty ? "-" : String(format: "%.2f s", recoveries[recoveries.count / 2])
            let slowest = recoveries.last.map { String(format: "%.2f s", $0) } ?? "-"
            let during = rates.isEmpty ? "-" : String(format: "%.0f (%.0f)", rates.reduce(0, +) / Double(rates.count),
                                                       quiet.reduce(0, +) / Double(max(1, quiet.count)))
            lines.append([kind.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0), "\(injected)".leftPadded(8),
                          "\(problems)".leftPadded(11), p50.leftPadded(12), slowest.leftPadded(12), during.leftPadded(19),
                          "\(failedRuns)".leftPadded(14)]
                .joined(separator: "  "))
        }
        let passed = reports.filter(\.passed).count
        lines += ["", "\(passed) of \(reports.count) runs passed every checker"]
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
