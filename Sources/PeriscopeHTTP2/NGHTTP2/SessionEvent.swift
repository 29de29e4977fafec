import NIOCore

/// What nghttp2 reported while parsing input, collected by the callbacks and handed to the
/// connection only after `mem_recv` has returned. Callbacks never run user code: this list is
/// how they talk to the rest of the program, which is what makes re-entry impossible.
enum SessionEvent: Equatable {
    /// A complete header block: request or response head, or trailers.
    case headers(streamID: Int32, HTTP2Headers, endStream: Bool)
    /// A header block larger than our SETTINGS_MAX_HEADER_LIST_SIZE; its fields were dropped.
    case headerListTooLarge(streamID: Int32, bytes: Int)
    /// Received body bytes. `endStream` is set when the peer finished its side.
    case data(streamID: Int32, ByteBuffer, endStream: Bool)
    /// The stream is gone; `.noError` when both sides finished normally.
    case streamClosed(streamID: Int32, HTTP2ErrorCode)
    case goAway(lastStreamID: Int32, HTTP2ErrorCode)
    case pingAcknowledged(payload: UInt64)
}
