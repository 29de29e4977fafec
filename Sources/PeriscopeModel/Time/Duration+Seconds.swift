extension Duration {
    /// This duration in (fractional) seconds, for APIs that take a `TimeInterval` and for
    /// printing rates.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension Duration {
    /// This duration in whole nanoseconds (truncated), for timestamps and clock arithmetic
    /// kept as `Int64`.
    public var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
