/// The limits one side of a connection announces and enforces. Every one is bounded; the
/// defaults suit an RPC server with many concurrent streams of modest messages.
public struct HTTP2Settings: Sendable, Equatable {
    /// SETTINGS_MAX_CONCURRENT_STREAMS we announce. Streams beyond it are refused
    /// (RST_STREAM REFUSED_STREAM) by nghttp2.
    public var maxConcurrentStreams: Int = 1_024
    /// SETTINGS_INITIAL_WINDOW_SIZE we announce (per-stream receive window).
    public var initialStreamWindowBytes: Int = 1 << 20
    /// The connection-level receive window, raised from the RFC's 65,535 right after the
    /// preface. Received bytes return to the windows only when a stream's consumer has taken
    /// them (`HTTP2Stream.consumed`), so this bounds the memory a peer can make us hold.
    public var connectionWindowBytes: Int = 16 << 20
    /// SETTINGS_MAX_FRAME_SIZE we announce; larger frames are a FRAME_SIZE_ERROR.
    public var maxFrameBytes: Int = 16_384
    /// SETTINGS_MAX_HEADER_LIST_SIZE we announce and enforce (RFC 9113 §6.5.2 accounting).
    public var maxHeaderListBytes: Int = 16 << 10
    /// Bytes queued for one stream before `HTTP2Stream.write` makes its writer wait.
    public var outboundStreamBufferedBytesMax: Int = 1 << 20

    public init() {}

    func validate() throws(HTTP2Error) {
        func check(_ ok: Bool, _ what: String) throws(HTTP2Error) {
            if !ok { throw HTTP2Error.invalidConfiguration(what) }
        }
        try check(maxConcurrentStreams >= 1 && maxConcurrentStreams <= Int(Int32.max),
                  "maxConcurrentStreams must be at least 1")
        try check(initialStreamWindowBytes >= 0 && initialStreamWindowBytes <= Int(Int32.max),
                  "initialStreamWindowBytes must be within 0...2^31-1 (RFC 9113 §6.9.2)")
        try check(connectionWindowBytes >= 65_535 && connectionWindowBytes <= Int(Int32.max),
                  "connectionWindowBytes must be within 65,535...2^31-1")
        try check(maxFrameBytes >= 16_384 && maxFrameBytes <= 16_777_215,
                  "maxFrameBytes must be within 16,384...16,777,215 (RFC 9113 §6.5.2)")
        try check(maxHeaderListBytes >= 1_024, "maxHeaderListBytes must be at least 1,024")
        try check(outboundStreamBufferedBytesMax >= 1, "outboundStreamBufferedBytesMax must be positive")
    }
}
