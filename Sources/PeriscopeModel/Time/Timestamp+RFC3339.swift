/// Why a datetime string was refused.
public struct TimestampParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let input: String
    public let reason: String
    public var description: String { "unable to parse datetime '\(input)': \(reason)" }
}

extension Timestamp {
    /// Parses RFC 3339 with optional fractional seconds, as Go's `time.RFC3339Nano` layout
    /// does (which is what Temporal accepts): `2006-01-02T15:04:05[.999999999](Z|±07:00)`.
    ///
    /// A space instead of `T`, a missing zone, a date alone, or fields out of range are
    /// refused. Fraction digits past the ninth are ignored, as Go does.
    public init(rfc3339 text: String) throws(TimestampParseError) {
        var reader = DigitReader(Array(text.utf8))
        func fail(_ reason: String) -> TimestampParseError { TimestampParseError(input: text, reason: reason) }

        guard let year = reader.number(digits: 4), reader.take(UInt8(ascii: "-")),
              let month = reader.number(digits: 2), reader.take(UInt8(ascii: "-")),
              let day = reader.number(digits: 2)
        else { throw fail("expected a date as YYYY-MM-DD") }
        guard reader.take(UInt8(ascii: "T")) else { throw fail("expected 'T' between date and time") }
        guard let hour = reader.number(digits: 2), reader.take(UInt8(ascii: ":")),
              let minute = reader.number(digits: 2), reader.take(UInt8(ascii: ":")),
              let second = reader.number(digits: 2)
        else { throw fail("expected a time as hh:mm:ss") }

        var fraction: Int64 = 0
        if reader.take(UInt8(ascii: ".")) {
            let digits = reader.digitRun()
            guard !digits.isEmpty else { throw fail("expected digits after '.'") }
            for (index, digit) in digits.prefix(9).enumerated() { fraction += Int64(digit) * Self.powersOfTen[8 - index] }
        }

        let offsetSeconds: Int64
        if reader.take(UInt8(ascii: "Z")) {
            offsetSeconds = 0
        } else if let sign = reader.takeSign() {
            guard let offsetHours = reader.number(digits: 2), reader.take(UInt8(ascii: ":")),
                  let offsetMinutes = reader.number(digits: 2)
            else { throw fail("expected a zone offset as ±hh:mm") }
            guard offsetHours < 24, offsetMinutes < 60 else { throw fail("zone offset out of range") }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        } else {
            throw fail("expected a zone: 'Z' or ±hh:mm")
        }
        guard reader.isAtEnd else { throw fail("unexpected text after the zone") }

        guard (1...12).contains(month) else { throw fail("month out of range") }
        guard (1...CivilCalendar.daysInMonth(year: year, month: month)).contains(day) else { throw fail("day out of range") }
        guard hour < 24 else { throw fail("hour out of range") }
        guard minute < 60 else { throw fail("minute out of range") }
        guard second < 60 else { throw fail("second out of range") }

        let days = CivilCalendar.daysSinceEpoch(year: year, month: month, day: day)
        var seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        if seconds < 0, fraction > 0 {
            // Borrow a second so the product stays in range at the very bottom (1677-09-21).
            seconds += 1
            fraction -= Self.nanosecondsPerSecond
        }
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: Self.nanosecondsPerSecond)
        let (total, overflowAdding) = scaled.addingReportingOverflow(fraction)
        guard !overflow, !overflowAdding else {
            throw fail("outside the supported range 1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z")
        }
        self.init(nanosecondsSinceEpoch: total)
    }

    /// RFC 3339 in UTC with the fraction trimmed of trailing zeros (omitted when zero), the
    /// text Go's `time.RFC3339Nano` produces, so values round-trip through Temporal unchanged.
    public var rfc3339: String {
        let (seconds, nanos) = nanosecondsSinceEpoch.floorDividedWithRemainder(by: Self.nanosecondsPerSecond)
        let (days, secondOfDay) = seconds.floorDividedWithRemainder(by: 86_400)
        let date = CivilCalendar.date(daysSinceEpoch: days)
        var text = Self.pad(date.year, 4) + "-" + Self.pad(date.month, 2) + "-" + Self.pad(date.day, 2)
        text += "T" + Self.pad(secondOfDay / 3600, 2) + ":" + Self.pad(secondOfDay / 60 % 60, 2) + ":" + Self.pad(secondOfDay % 60, 2)
        if nanos != 0 {
            var fraction = Self.pad(nanos, 9)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text + "Z"
    }

    private static let powersOfTen: [Int64] = (0..<10).map { (0..<$0).reduce(1) { value, _ in value * 10 } }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: Swift.max(0, width - digits.count)) + digits
    }
}

extension Int64 {
    /// Division rounding toward negative infinity, with a non-negative remainder.
    func floorDividedWithRemainder(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let quotient = self / divisor
        let remainder = self % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}

/// A cursor over ASCII bytes for the fixed-width fields of a timestamp.
private struct DigitReader {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { index == bytes.count }

    mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    mutating func takeSign() -> Int64? {
        if take(UInt8(ascii: "+")) { return 1 }
        if take(UInt8(ascii: "-")) { return -1 }
        return nil
    }

    /// Exactly `digits` decimal digits.
    mutating func number(digits: Int) -> Int64? {
        guard index + digits <= bytes.count else { return nil }
        var value: Int64 = 0
        for byte in bytes[index..<index + digits] {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        index += digits
        return value
    }

    /// All consecutive digits, as values 0...9.
    mutating func digitRun() -> [UInt8] {
        var run: [UInt8] = []
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            run.append(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        return run
    }
}
