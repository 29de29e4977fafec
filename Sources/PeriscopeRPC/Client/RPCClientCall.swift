import NIOCore
import PeriscopeHTTP2

/// The client side of one call: collects the response head, messages and status, and
/// hands messages to the caller as they arrive. Lives on the connection's event loop.
/// Response bytes go back to the flow-control window as the caller takes messages, so a
/// caller that stops reading stops the server rather than growing a buffer here.
final class RPCClientCall: HTTP2StreamDelegate, @unchecked Sendable {
    /// Response bytes that may wait untaken before the server is slowed down.
    static let bufferedBytesMax = 4 << 20

    private var deframer: MessageDeframer
    private var credit: InboundCredit
    private var responseHeaders: HTTP2Headers?
    private let messages: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
    private var completed = false
    private var stream: HTTP2Stream?

    init(maxMessageBytes: Int, messages: AsyncThrowingStream<ByteBuffer, any Error>.Continuation) {
        self.deframer = MessageDeframer(maxMessageBytes: maxMessageBytes)
        self.credit = InboundCredit(buffered: Self.bufferedBytesMax, oneMessage: maxMessageBytes)
        self.messages = messages
    }

    /// The stream is known from the moment it is opened, so a deadline or cancellation
    /// before any response still resets it.
    func attach(_ stream: HTTP2Stream) {
        if self.stream == nil { self.stream = stream }
        if completed { stream.reset(.cancel) }
    }

    /// The caller took a message of `count` bytes (5 more on the wire).
    func taken(_ count: Int) {
        let repaid = credit.taken(count + 5)
        if repaid > 0 { stream?.consumed(repaid) }
    }

    func receive(_ part: HTTP2StreamPart, on stream: HTTP2Stream) {
        self.stream = stream
        switch part {
        case .headers(let headers, let endStream):
            if responseHeaders == nil {
                responseHeaders = headers
                if let status = headers.status, status != 200 {
                    return complete(RPCStatus(RPCStatus.Code.fromHTTPStatus(status),
                                              "the server answered HTTP \(status), not gRPC"), reset: true)
                }
                if !endStream, headers.contentType.flatMap(MessageCodec.init(contentType:)) != .protobuf {
                    return complete(RPCStatus(.internalError, "the server answered content-type "
                        + "'\(headers.contentType ?? "")', not application/grpc"), reset: true)
                }
            }
            if endStream { complete(Self.status(from: headers)) }
        case .data(var bytes, let endStream):
            let returnNow = credit.received(bytes.readableBytes)
            if returnNow > 0 { stream.consumed(returnNow) }
            deframer.append(&bytes)
            do {
                while let message = try deframer.next() { messages.yield(message) }
            } catch {
                return complete(error, reset: true)
            }
            if endStream {
                complete(RPCStatus(.internalError, "the server ended the stream without grpc-status trailers"))
            }
        }
    }

    func streamClosed(_ stream: HTTP2Stream, error: HTTP2Error?) {
        complete(error.map { RPCStatus($0) } ?? RPCStatus(.internalError, "the stream closed without a status"))
    }

    /// Fails the call locally (deadline, cancellation) and resets the stream.
    func cancel(_ status: RPCStatus) {
        complete(status, reset: true)
    }

    private func complete(_ status: RPCStatus, reset: Bool = false) {
        guard !completed else { return }
        completed = true
        if status.code == .ok { messages.finish() } else { messages.finish(throwing: status) }
        if reset { stream?.reset(.cancel) }
    }

    static func status(from trailers: HTTP2Headers) -> RPCStatus {
        guard let raw = trailers["grpc-status"], let number = Int(raw) else {
            return RPCStatus(.internalError, "the response carried no valid grpc-status")
        }
        let code = RPCStatus.Code(rawValue: number) ?? .unknown
        return RPCStatus(code, trailers["grpc-message"].map(PercentEncoding.decode) ?? "")
    }
}
