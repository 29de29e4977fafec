/// Failures of the HTTP/2 layer, each saying what went wrong and, where nghttp2 was involved,
/// carrying its error code and message.
public enum HTTP2Error: Error, Equatable, CustomStringConvertible {
    /// nghttp2 refused a call; `code` is its `nghttp2_error`, `message` its `nghttp2_strerror`.
    case library(operation: String, code: Int32, message: String)
    /// The peer broke the protocol; the connection was ended with GOAWAY `code`.
    case protocolViolation(HTTP2ErrorCode, detail: String)
    /// A call reached the nghttp2 session while it was running one of its own callbacks.
    /// nghttp2 is not re-entrant; this is a bug in the caller and nothing was changed.
    case reentrantCall(operation: String)
    /// The stream was reset (by the peer or by us) before the operation could complete.
    case streamReset(HTTP2ErrorCode)
    /// The connection closed (or was never established) before the operation could complete.
    case connectionClosed(detail: String)
    /// The peer announced GOAWAY; streams above `lastStreamID` were not processed.
    case goAway(HTTP2ErrorCode, lastStreamID: Int32)
    /// A header block exceeded the announced SETTINGS_MAX_HEADER_LIST_SIZE.
    case headerListTooLarge(bytes: Int, limit: Int)
    /// The stream is finished for writing (end of stream or trailers already sent).
    case streamAlreadyFinished(streamID: Int32)
    /// A setting or option was out of range.
    case invalidConfiguration(String)
    /// An operation did not complete in time.
    case timedOut(String)

    public var description: String {
        switch self {
        case .library(let operation, let code, let message):
            return "nghttp2 \(operation) failed: \(message) (\(code))"
        case .protocolViolation(let code, let detail):
            return "HTTP/2 protocol violation (\(code)): \(detail)"
        case .reentrantCall(let operation):
            return "\(operation) was called from inside an nghttp2 callback; nghttp2 is not re-entrant"
        case .streamReset(let code):
            return "stream reset with \(code)"
        case .connectionClosed(let detail):
            return "connection closed: \(detail)"
        case .goAway(let code, let lastStreamID):
            return "peer sent GOAWAY \(code) (last processed stream \(lastStreamID))"
        case .headerListTooLarge(let bytes, let limit):
            return "header list of \(bytes) bytes exceeds the limit of \(limit) bytes"
        case .streamAlreadyFinished(let streamID):
            return "stream \(streamID) has already ended its side"
        case .invalidConfiguration(let what):
            return "invalid HTTP/2 configuration: \(what)"
        case .timedOut(let what):
            return "timed out: \(what)"
        }
    }
}
