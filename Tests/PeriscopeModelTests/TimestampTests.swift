import PeriscopeTestSupport
import Foundation
import Testing
@testable import PeriscopeModel

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2020-02-15T20:30:40Z", Int64(1_581_798_640_000_000_000)),
        ("2018-06-07T15:04:05.123456789-08:00", 1_528_412_645_123_456_789),
        ("2018-06-07T15:04:05+00:00", 1_528_383_845_000_000_000),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59.999999999Z", -1),
        ("2000-02-29T12:00:00.5+05:30", 951_805_800_500_000_000),
        ("2262-04-11T23:47:16.854775807Z", Int64.max),
        ("1677-09-21T00:12:43.145224192Z", Int64.min),
        ("2021-01-01T00:00:00.1234567891234Z", 1_609_459_200_123_456_789),  // digits past 9 ignored, as Go does
    ])
    func parsesRFC3339Nano(text: String, nanoseconds: Int64) throws {
        #expect(try Timestamp(rfc3339: text).nanosecondsSinceEpoch == nanoseconds)
    }

    @Test(arguments: [
        ("2025-01-01 12:34:56Z", "expected 'T' between date and time"),
        ("2025-01-01", "expected 'T' between date and time"),
        ("2025-01-01T12:34:56", "expected a zone: 'Z' or ±hh:mm"),
        ("2025-01-01T12:34Z", "expected a time as hh:mm:ss"),
        ("2025-1-01T12:34:56Z", "expected a date as YYYY-MM-DD"),
        ("2025-02-29T00:00:00Z", "day out of range"),
        ("2024-04-31T00:00:00Z", "day out of range"),
        ("2025-13-01T00:00:00Z", "month out of range"),
        ("2025-00-01T00:00:00Z", "month out of range"),
        ("2025-01-01T24:00:00Z", "hour out of range"),
        ("2025-01-01T23:60:00Z", "minute out of range"),
        ("2025-01-01T23:59:60Z", "second out of range"),
        ("2025-01-01T00:00:00+24:00", "zone offset out of range"),
        ("2025-01-01T00:00:00.Z", "expected digits after '.'"),
        ("2025-01-01T00:00:00Zjunk", "unexpected text after the zone"),
        ("2025-01-01t00:00:00z", "expected 'T' between date and time"),
        ("2262-04-12T00:00:00Z", "outside the supported range"),
        ("2262-04-11T23:47:16.854775808Z", "outside the supported range"),
        ("1677-09-21T00:12:43.145224191Z", "outside the supported range"),
        ("", "expected a date as YYYY-MM-DD"),
        ("1581798640", "expected a date as YYYY-MM-DD"),
    ])
    func refusesMalformedText(text: String, reason: String) {
        #expect {
            _ = try Timestamp(rfc3339: text)
        } throws: { error in
            let parseError = error as? TimestampParseError
            return parseError?.input == text && parseError?.reason.hasPrefix(reason) == true
                && parseError?.description.hasPrefix("unable to parse datetime '\(text)'") == true
        }
    }

    @Test func formatsLikeGoRFC3339Nano() {
        #expect(Timestamp(nanosecondsSinceEpoch: 0).rfc3339 == "1970-01-01T00:00:00Z")
        #expect(Timestamp(nanosecondsSinceEpoch: 1_528_412_645_123_456_789).rfc3339 == "2018-06-07T23:04:05.123456789Z")
        #expect(Timestamp(nanosecondsSinceEpoch: 1_500_000_000).rfc3339 == "1970-01-01T00:00:01.5Z")
        #expect(Timestamp(nanosecondsSinceEpoch: -1).rfc3339 == "1969-12-31T23:59:59.999999999Z")
        #expect(Timestamp.min.rfc3339 == "1677-09-21T00:12:43.145224192Z")
        #expect(Timestamp.max.rfc3339 == "2262-04-11T23:47:16.854775807Z")
    }

    /// Our calendar arithmetic against Foundation's, over random seconds in the whole range.
    @Test(arguments: [UInt64(1), 2, 3])
    func agreesWithFoundationsCalendar(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        for _ in 0..<2000 {
            let seconds = Int64.random(in: -9_223_372_036...9_223_372_035, using: &random)
            let ours = Timestamp(secondsSinceEpoch: seconds).rfc3339
            let foundation = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect(ours == foundation, "seed \(seed), seconds \(seconds)")
        }
    }

    @Test(arguments: [UInt64(7), 8])
    func roundTripsEveryNanosecond(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        for _ in 0..<5000 {
            let time = Timestamp(nanosecondsSinceEpoch: Int64.random(in: .min ... .max, using: &random))
            #expect(try Timestamp(rfc3339: time.rfc3339) == time, "seed \(seed), \(time.nanosecondsSinceEpoch)")
        }
    }
}
