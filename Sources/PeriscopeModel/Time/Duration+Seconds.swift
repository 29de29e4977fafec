extension Duration {
    /// This duration in (fractional) seconds, for APIs that take a `TimeInterval` and for
    /// printing rates.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
