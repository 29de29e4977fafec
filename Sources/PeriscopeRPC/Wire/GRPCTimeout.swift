/// The `grpc-timeout` header: at most 8 digits and a unit (H, M, S, m, u, n).
///
/// The header can say up to 99,999,999 hours (about 11,000 years), which does not fit in an
/// Int64 of nanoseconds; every deadline is therefore clamped to `longest` before any
/// arithmetic in nanoseconds, so no header value can overflow.
enum GRPCTimeout {
    /// One year: longer than any call this server should keep state for.
    static let longest = Duration.seconds(365 * 24 * 3_600)

    static func parse(_ value: String) -> Duration? {
        let digits = value.utf8.dropLast()
        guard let unit = value.last, (1...8).contains(digits.count),
              digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              let amount = Int64(Substring(value.dropLast())) else { return nil }
        let duration: Duration
        switch unit {
        case "H": duration = .seconds(amount) * 3_600
        case "M": duration = .seconds(amount) * 60
        case "S": duration = .seconds(amount)
        case "m": duration = .milliseconds(amount)
        case "u": duration = .microseconds(amount)
        case "n": duration = .nanoseconds(amount)
        default: return nil
        }
        return min(duration, longest)
    }

    /// Whole nanoseconds in `duration`, clamped to `0...longest`.
    static func nanoseconds(_ duration: Duration) -> Int64 {
        let clamped = min(max(duration, .zero), longest)
        return clamped.components.seconds * 1_000_000_000 + clamped.components.attoseconds / 1_000_000_000
    }

    /// The finest unit whose amount fits in 8 digits.
    static func format(_ duration: Duration) -> String {
        let total = nanoseconds(duration)
        for (unit, divisor) in [("n", Int64(1)), ("u", 1_000), ("m", 1_000_000), ("S", 1_000_000_000),
                                ("M", 60_000_000_000), ("H", 3_600_000_000_000)] {
            let amount = (total + divisor - 1) / divisor
            if amount < 100_000_000 { return "\(amount)\(unit)" }
        }
        return "99999999H"
    }
}
