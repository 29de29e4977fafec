import Crypto

/// The canonical text of an execution that a migration's validation hashes on both sides: in
/// Periscope from the record (`canonicalText`), in the source with SQL that builds the same
/// text from Temporal's columns (`SourceChecksums` in PeriscopeMigration). A field that
/// differs between the stores changes the text, hence the fingerprint and its bucket's sum.
///
/// Fields are joined by U+001F; search attributes are `name=value` sorted by name (byte
/// order), joined by U+001E, and a keyword list's items by U+001D. Times are microseconds
/// since the epoch (PostgreSQL's precision), the memo is its MD5 in hex, a missing value is
/// empty. The fingerprint is the first 8 bytes, big-endian, of the text's MD5 (PostgreSQL
/// has `md5()` built in; the hash only has to make a difference show, not resist anyone).
public enum ExecutionFingerprint {
    public static let fieldSeparator = "\u{1F}"
    public static let attributeSeparator = "\u{1E}"
    public static let listSeparator = "\u{1D}"

    /// The names of the fields of the canonical text, in order (a drill-down names the ones that differ).
    public static let fieldNames = [
        "RunId", "WorkflowId", "Version", "ExecutionStatus", "StartTime", "ExecutionTime", "CloseTime", "WorkflowType", "TaskQueue",
        "HistoryLength", "HistorySizeBytes", "ExecutionDuration", "StateTransitionCount", "ParentWorkflowId", "ParentRunId",
        "RootWorkflowId", "RootRunId", "Memo", "SearchAttributes",
    ]

    /// The canonical fields of `record`, in `fieldNames` order.
    public static func fields(of record: VisibilityRecord) -> [String] {
        let memoDigest = Insecure.MD5.hash(data: record.memo).map { hexDigits[Int($0 >> 4)] + hexDigits[Int($0 & 15)] }.joined()
        func optional(_ value: Int64?) -> String { value.map(String.init) ?? "" }
        return [
            record.key.runId, record.key.workflowId, String(record.version), String(record.status.rawValue),
            String(microseconds(record.startTime)), String(microseconds(record.executionTime)),
            record.closeTime.map { String(microseconds($0)) } ?? "", record.workflowType, record.taskQueue,
            optional(record.historyLength), optional(record.historySizeBytes), optional(record.executionDuration),
            optional(record.stateTransitionCount), record.parentWorkflowId ?? "", record.parentRunId ?? "",
            record.rootWorkflowId, record.rootRunId, memoDigest, attributesText(record.searchAttributes),
        ]
    }

    public static func canonicalText(of record: VisibilityRecord) -> String {
        fields(of: record).joined(separator: fieldSeparator)
    }

    public static func fingerprint(of record: VisibilityRecord) -> UInt64 {
        Insecure.MD5.hash(data: Array(canonicalText(of: record).utf8)).prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    private static let hexDigits = (0..<16).map { String($0, radix: 16) }

    static func attributesText(_ attributes: [String: SearchAttributeValue]) -> String {
        attributes.filter { !$0.value.isEmpty }
            .sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
            .map { $0.key + "=" + text(of: $0.value) }
            .joined(separator: attributeSeparator)
    }

    static func text(of value: SearchAttributeValue) -> String {
        switch value {
        case .keyword(let string), .text(let string): string
        case .keywordList(let list): list.joined(separator: listSeparator)
        case .int(let number): String(number)
        case .double(let number): postgresText(of: number)
        case .bool(let flag): String(flag)
        case .datetime(let time): String(microseconds(time))
        }
    }

    /// Microseconds since the epoch as PostgreSQL reads the time: it parses the fraction of a
    /// second as a double and rounds `fraction × 10⁶` to the nearest, ties to even (`rint`).
    /// The double nearest the fraction is the same whether parsed from its digits or divided
    /// from nanoseconds, so both sides round alike.
    public static func microseconds(_ time: Timestamp) -> Int64 {
        let (seconds, fraction) = time.nanosecondsSinceEpoch.floorDividedWithRemainder(by: 1_000_000_000)
        let micros = (Double(fraction) / 1e9 * 1e6).rounded(.toNearestOrEven)
        return seconds * 1_000_000 + Int64(micros)
    }

    /// `number` as PostgreSQL's `float8` prints it (12 and later, `extra_float_digits` 1): the
    /// shortest digits that read back exactly (Swift's description finds the same ones), in
    /// fixed notation for decimal exponents -4 ... 14, else as `d.ddde+XX`.
    public static func postgresText(of number: Double) -> String {
        if number.isNaN { return "NaN" }
        if number.isInfinite { return number < 0 ? "-Infinity" : "Infinity" }
        if number == 0 { return number.sign == .minus ? "-0" : "0" }
        var text = Substring(number.magnitude.description)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        // Digits and the position of the decimal point among them.
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        var digits = String(parts[0]) + (parts.count > 1 ? String(parts[1]) : "")
        var point = parts[0].count + exponent
        while digits.first == "0", digits.count > 1 {
            digits.removeFirst()
            point -= 1
        }
        while digits.last == "0", digits.count > 1 { digits.removeLast() }
        let decimalExponent = point - 1  // value = d.ddd × 10^decimalExponent
        let sign = number < 0 ? "-" : ""
        if decimalExponent < -4 || decimalExponent >= 15 {
            let mantissa = digits.count == 1 ? digits : String(digits.first!) + "." + digits.dropFirst()
            let magnitude = abs(decimalExponent)
            return sign + mantissa + "e" + (decimalExponent < 0 ? "-" : "+") + (magnitude < 10 ? "0" : "") + String(magnitude)
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + digits }
        if point >= digits.count { return sign + digits + String(repeating: "0", count: point - digits.count) }
        let split = digits.index(digits.startIndex, offsetBy: point)
        return sign + digits[..<split] + "." + digits[split...]
    }
}
