import PeriscopeModel

/// Where an execution's records and index entries are filed: open executions in one
/// section, closed ones in the partition of their close time's bucket. Retention drops
/// whole closed partitions with range deletes.
public enum Partition: Hashable, Sendable, CustomStringConvertible {
    case open
    /// Closed in bucket `n`: close times in `[n × width, (n + 1) × width)` nanoseconds.
    case closed(bucket: Int64)

    /// In keys a partition is an int written descending, so partitions sort newest first
    /// with the open section (`Int64.max`) before all of them: a namespace's keys in
    /// partition order follow Temporal's default listing order.
    func append(to encoder: inout KeyEncoder) {
        switch self {
        case .open: encoder.append(.int(.max), .descending)
        case .closed(let bucket): encoder.append(.int(bucket), .descending)
        }
    }

    init?(_ element: TupleElement) {
        guard case .int(let value) = element else { return nil }
        self = value == .max ? .open : .closed(bucket: value)
    }

    public var description: String {
        switch self {
        case .open: "open"
        case .closed(let bucket): "closed#\(bucket)"
        }
    }
}

/// How closed executions are bucketed by close time. Part of a shard's identity: every
/// replica must use the same width, so it is stored at creation and checked at open.
public struct PartitionScheme: Hashable, Sendable {
    /// Bucket width in nanoseconds.
    public let widthNanoseconds: Int64

    public static let day = PartitionScheme(widthNanoseconds: 86_400 * 1_000_000_000)

    /// - Precondition: at least one second (narrower buckets would make partitions tiny and
    ///   countless).
    public init(widthNanoseconds: Int64) {
        precondition(widthNanoseconds >= 1_000_000_000, "a partition is at least one second wide")
        self.widthNanoseconds = widthNanoseconds
    }

    public func bucket(of time: Timestamp) -> Int64 {
        let (quotient, remainder) = time.nanosecondsSinceEpoch.quotientAndRemainder(dividingBy: widthNanoseconds)
        return remainder < 0 ? quotient - 1 : quotient
    }

    public func partition(of record: VisibilityRecord) -> Partition {
        record.closeTime.map { .closed(bucket: bucket(of: $0)) } ?? .open
    }

    /// The newest bucket that ends at or before `time`: every close time in it is earlier.
    public func lastBucket(endingAtOrBefore time: Timestamp) -> Int64 { bucket(of: time) - 1 }

    /// The first instant of `bucket` (a tombstone recreated from its partition is filed there again).
    public func start(ofBucket bucket: Int64) -> Timestamp {
        let (product, overflow) = bucket.multipliedReportingOverflow(by: widthNanoseconds)
        return Timestamp(nanosecondsSinceEpoch: overflow ? (bucket < 0 ? .min : .max) : product)
    }
}
