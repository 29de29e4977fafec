/// How typed values compare: Keywords by UTF-8 bytes (the order of Periscope's index keys),
/// numbers numerically whether int or double, datetimes by nanosecond, Bool false < true,
/// ExecutionStatus by its number (as Temporal's SQL stores compare it).
extension QueryValue {
    /// -1, 0 or 1; nil when the two cannot be compared (different kinds).
    public static func order(_ left: QueryValue, _ right: QueryValue) -> Int? {
        switch (left, right) {
        case (.string(let a), .string(let b)):
            if a.utf8.elementsEqual(b.utf8) { return 0 }
            return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1
        case (.int(let a), .int(let b)): return a == b ? 0 : (a < b ? -1 : 1)
        case (.double(let a), .double(let b)): return a == b ? 0 : (a < b ? -1 : 1)
        case (.int(let a), .double(let b)): return compare(a, b)
        case (.double(let a), .int(let b)): return compare(b, a).map { -$0 }
        case (.bool(let a), .bool(let b)): return a == b ? 0 : (!a ? -1 : 1)
        case (.datetime(let a), .datetime(let b)): return a == b ? 0 : (a < b ? -1 : 1)
        case (.status(let a), .status(let b)): return a == b ? 0 : (a.rawValue < b.rawValue ? -1 : 1)
        default: return nil
        }
    }

    /// An int64 against a double, exactly (no rounding of large ints).
    private static func compare(_ integer: Int64, _ float: Double) -> Int? {
        guard !float.isNaN else { return nil }
        if float < -9.223372036854775808e18 { return 1 }
        if float >= 9.223372036854775808e18 { return -1 }
        let whole = Int64(float.rounded(.down))
        if integer != whole { return integer < whole ? -1 : 1 }
        return float > Double(whole) ? -1 : 0
    }

    static func isLess(_ left: QueryValue, _ right: QueryValue) -> Bool { order(left, right).map { $0 < 0 } ?? false }
}
