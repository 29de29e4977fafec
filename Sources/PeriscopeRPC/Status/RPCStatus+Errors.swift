import PeriscopeHTTP2

extension RPCStatus {
    /// The status a Swift error becomes when a handler throws it: its own if it knows it
    /// (`RPCStatusConvertible`), CANCELLED for cancellation, INTERNAL otherwise, with the
    /// error's description so the caller learns what happened.
    public init(_ error: any Error) {
        switch error {
        case let convertible as any RPCStatusConvertible:
            self = convertible.rpcStatus
        case is CancellationError:
            self.init(.cancelled, "the call was cancelled")
        case let http2 as HTTP2Error:
            self.init(http2)
        default:
            self.init(.internalError, "\(error)")
        }
    }

    /// gRPC's reading of HTTP/2 failures (PROTOCOL-HTTP2.md, "Errors").
    init(_ error: HTTP2Error) {
        switch error {
        case .streamReset(let code):
            switch code {
            case .refusedStream: self.init(.unavailable, "the server refused the stream (\(code)); it was not processed")
            case .cancel: self.init(.cancelled, "the stream was cancelled (\(code))")
            case .enhanceYourCalm: self.init(.resourceExhausted, "the peer asked us to slow down (\(code))")
            case .inadequateSecurity: self.init(.permissionDenied, "\(code)")
            default: self.init(.internalError, "the stream was reset with \(code)")
            }
        case .goAway(let code, _):
            self.init(.unavailable, "the server is going away (\(code)); retry on a new connection")
        case .connectionClosed(let detail):
            self.init(.unavailable, "the connection closed: \(detail)")
        case .timedOut(let detail):
            self.init(.unavailable, detail)
        default:
            self.init(.internalError, "\(error)")
        }
    }
}
