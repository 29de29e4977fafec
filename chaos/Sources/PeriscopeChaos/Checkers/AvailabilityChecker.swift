/// The cluster takes writes again soon after the last fault heals: the time from the heal to
/// the completion of the first acknowledged write invoked after it, within a bound. Writes
/// invoked before the heal do not count: they may have been waiting out the fault.
public enum AvailabilityChecker {
    public static let name = "availability"

    public static func check(_ history: [HistoryOperation], healedAtNanoseconds: Int64,
                             boundSeconds: Double) -> (CheckResult, recoverySeconds: Double?) {
        let firstCompleted = history
            .filter { $0.kind.isWrite && $0.outcome == .ok && $0.invokedNanoseconds >= healedAtNanoseconds }
            .compactMap(\.completedNanoseconds)
            .min()
        let bound = "bound \(formatSeconds(boundSeconds))"
        guard let firstCompleted else {
            let result = CheckResult(checker: name, passed: false,
                                     evidence: ["no write invoked after the heal at \(formatMilliseconds(healedAtNanoseconds)) was acknowledged"],
                                     summary: "no write acknowledged after the heal (\(bound))")
            return (result, nil)
        }
        let seconds = Double(firstCompleted - healedAtNanoseconds) / 1e9
        let passed = seconds <= boundSeconds
        let summary = "first write acknowledged \(formatSeconds(seconds)) after the heal (\(bound))"
        let evidence = passed ? [] : ["writes recovered \(formatSeconds(seconds)) after the heal, beyond the \(bound)"]
        return (CheckResult(checker: name, passed: passed, evidence: evidence, summary: summary), seconds)
    }

    /// Milliseconds' precision, without Foundation's formatting.
    static func formatSeconds(_ seconds: Double) -> String {
        let milliseconds = Int64((seconds * 1000).rounded())
        let sign = milliseconds < 0 ? "-" : ""
        let magnitude = abs(milliseconds)
        let fraction = String(magnitude % 1000)
        return "\(sign)\(magnitude / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)s"
    }
}
