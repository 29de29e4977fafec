/// A point in time: nanoseconds since 1970-01-01T00:00:00Z, in UTC.
///
/// Temporal's Datetime values carry nanoseconds (Elasticsearch's `date_nanos`), so this does
/// too. The range of an `Int64` of nanoseconds, 1677-09-21 to 2262-04-11, covers every date
/// a workflow can have (and is wider than Elasticsearch's, which starts at 1970).
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanosecondsSinceEpoch: Int64

    public init(nanosecondsSinceEpoch: Int64) {
        self.nanosecondsSinceEpoch = nanosecondsSinceEpoch
    }

    public init(secondsSinceEpoch seconds: Int64, nanoseconds: Int64 = 0) {
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: Self.nanosecondsPerSecond)
        precondition(!overflow, "Timestamp(secondsSinceEpoch: \(seconds)) is out of range")
        self.nanosecondsSinceEpoch = scaled + nanoseconds
    }

    public static let epoch = Timestamp(nanosecondsSinceEpoch: 0)
    public static let min = Timestamp(nanosecondsSinceEpoch: .min)
    public static let max = Timestamp(nanosecondsSinceEpoch: .max)
    static let nanosecondsPerSecond: Int64 = 1_000_000_000

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }

    public var description: String { rfc3339 }

    /// The latest time at or before this one that is a whole multiple of `nanoseconds`
    /// (1,000: the microsecond, as Temporal's SQL store keeps times).
    public func truncated(toMultipleOf nanoseconds: Int64) -> Timestamp {
        Timestamp(nanosecondsSinceEpoch: nanosecondsSinceEpoch - nanosecondsSinceEpoch.floorDividedWithRemainder(by: nanoseconds).remainder)
    }
}
