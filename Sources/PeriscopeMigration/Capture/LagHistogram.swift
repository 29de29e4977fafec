/// How long captured transactions took from their commit at the source to their apply in
/// Periscope, in millisecond buckets (bounded: one counter per millisecond up to a minute,
/// one for everything slower).
public struct LagHistogram: Sendable, Equatable {
    static let bucketsMax = 60_000
    private var counts = [Int](repeating: 0, count: bucketsMax + 1)
    public private(set) var total = 0

    public init() {}

    public mutating func record(milliseconds: Double, times: Int = 1) {
        let bucket = min(Self.bucketsMax, max(0, Int(milliseconds.rounded(.up))))
        counts[bucket] += times
        total += times
    }

    /// The smallest lag, in milliseconds, that `fraction` of the transactions did not exceed
    /// (nil before any; `Double.infinity` if that lies beyond a minute).
    public func percentile(_ fraction: Double) -> Double? {
        guard total > 0 else { return nil }
        let rank = max(1, Int((fraction * Double(total)).rounded(.up)))
        var seen = 0
        for (bucket, count) in counts.enumerated() {
            seen += count
            if seen >= rank { return bucket == Self.bucketsMax ? .infinity : Double(bucket) }
        }
        return .infinity
    }
}
