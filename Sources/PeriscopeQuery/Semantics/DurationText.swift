/// `ExecutionDuration` literals written as text, as Temporal reads them: integer
/// nanoseconds (`'100'`), Go durations (`'300ms'`, `'1h30m'`, `'-1.5h'`) with `d` for
/// 24 hours (`'10d'`), or `'hh:mm:ss'`. Anything that overflows int64 nanoseconds is refused.
enum DurationText {
    static func nanoseconds(_ text: String) -> Int64? {
        if let plain = Int64(text) { return plain }
        if let clock = clock(text) { return clock }
        return goDuration(text)
    }

    private static let units: [(suffix: String, nanoseconds: Int64)] = [
        ("ns", 1), ("us", 1_000), ("µs", 1_000), ("μs", 1_000), ("ms", 1_000_000),
        ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000), ("d", 86_400_000_000_000),
    ]

    /// `hh:mm:ss`, minutes and seconds below 60.
    private static func clock(_ text: String) -> Int64? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { (48...57).contains($0) } }),
              parts[1].count == 2, parts[2].count == 2,
              let hours = Int64(parts[0]), let minutes = Int64(parts[1]), let seconds = Int64(parts[2]),
              minutes < 60, seconds < 60 else { return nil }
        let total = hours.multipliedReportingOverflow(by: 3_600)
        guard !total.overflow else { return nil }
        return scaled(total.partialValue + minutes * 60 + seconds, by: 1_000_000_000)
    }

    /// `[-+]?(number unit)+`, where number may have a fraction; `0` alone is zero.
    private static func goDuration(_ text: String) -> Int64? {
        var rest = Substring(text)
        var negative = false
        if rest.first == "-" || rest.first == "+" {
            negative = rest.first == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { return nil }
        var total: Int64 = 0
        while !rest.isEmpty {
            let whole = rest.prefix { $0.isASCII && $0.isNumber }
            rest = rest.dropFirst(whole.count)
            var fraction: Substring = ""
            if rest.first == "." {
                rest = rest.dropFirst()
                fraction = rest.prefix { $0.isASCII && $0.isNumber }
                rest = rest.dropFirst(fraction.count)
            }
            guard !whole.isEmpty || !fraction.isEmpty else { return nil }
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard let unit = units.first(where: { $0.suffix == unitText }) else { return nil }
            rest = rest.dropFirst(unitText.count)
            guard let wholeValue = whole.isEmpty ? 0 : Int64(whole),
                  let wholeNanoseconds = scaled(wholeValue, by: unit.nanoseconds) else { return nil }
            var part = wholeNanoseconds
            if !fraction.isEmpty {
                // Go keeps what fits of the fraction; digits past nanosecond precision round down.
                let digits = fraction.prefix(18)
                let fractional = Double("0." + digits)! * Double(unit.nanoseconds)
                part = part.addingReportingOverflow(Int64(fractional)).partialValue
                guard part >= wholeNanoseconds else { return nil }
            }
            let sum = total.addingReportingOverflow(part)
            guard !sum.overflow else { return nil }
            total = sum.partialValue
        }
        return negative ? -total : total
    }

    private static func scaled(_ value: Int64, by factor: Int64) -> Int64? {
        let product = value.multipliedReportingOverflow(by: factor)
        return product.overflow ? nil : product.partialValue
    }
}
