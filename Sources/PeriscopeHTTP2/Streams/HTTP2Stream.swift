import NIOCore

/// What arrives on a stream, in order: a header block (request or response head, later
/// trailers) or body bytes. `endStream` says the peer has finished its side.
public enum HTTP2StreamPart: Sendable, Equatable {
    case headers(HTTP2Headers, endStream: Bool)
    case data(ByteBuffer, endStream: Bool)
}

/// Receives a stream's parts. Called on the connection's event loop, never from inside
/// nghttp2; it may call any `HTTP2Stream` method directly.
public protocol HTTP2StreamDelegate: AnyObject {
    func receive(_ part: HTTP2StreamPart, on stream: HTTP2Stream)
    /// The stream is gone. `nil` when both sides finished; otherwise why (reset, connection lost).
    func streamClosed(_ stream: HTTP2Stream, error: HTTP2Error?)
}

/// One HTTP/2 stream of a connection. Its methods may be called from any thread: they hop to
/// the connection's event loop, where the connection performs them in call order and sends
/// the resulting frames with the next flush of that loop turn.
public final class HTTP2Stream: @unchecked Sendable {
    public let id: Int32
    public let eventLoop: any EventLoop
    /// Set once, on the event loop, before the first part is delivered.
    public var delegate: (any HTTP2StreamDelegate)?
    private weak var connection: HTTP2ConnectionHandler?
    /// Bytes delivered to the delegate but not yet released with `consumed`: returned to the
    /// connection window when the stream closes.
    var unconsumedInboundBytes = 0
    var writabilityWaiters: [EventLoopPromise<Void>] = []
    var isClosed = false

    init(id: Int32, eventLoop: any EventLoop, connection: HTTP2ConnectionHandler) {
        self.id = id
        self.eventLoop = eventLoop
        self.connection = connection
    }

    /// Sends the head (a response on servers). Without `endStream`, body and trailers follow.
    public func sendHeaders(_ headers: HTTP2Headers, endStream: Bool) {
        if let connection = connectionIfOnLoop { return connection.sendHeaders(headers, endStream: endStream, on: self) }
        onLoop { $0.sendHeaders(headers, endStream: endStream, on: self) }
    }

    /// Queues body bytes. The future completes when the stream's queue is below
    /// `HTTP2Settings.outboundStreamBufferedBytesMax`: await it before writing more.
    @discardableResult
    public func write(_ buffer: ByteBuffer, endStream: Bool = false) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        onLoop(failing: promise) { $0.write(buffer, endStream: endStream, on: self, promise: promise) }
        return promise.futureResult
    }

    /// Sends a whole response in one go: head, body, then trailers if given (else the body
    /// ends the stream). No back-pressure future: for answers already in memory.
    public func respond(_ headers: HTTP2Headers, body: ByteBuffer, trailers: HTTP2Headers?) {
        if let connection = connectionIfOnLoop { return connection.respond(headers, body: body, trailers: trailers, on: self) }
        onLoop { $0.respond(headers, body: body, trailers: trailers, on: self) }
    }

    /// Ends the stream with trailers, after any queued body bytes.
    public func sendTrailers(_ trailers: HTTP2Headers) {
        if let connection = connectionIfOnLoop { return connection.sendTrailers(trailers, on: self) }
        onLoop { $0.sendTrailers(trailers, on: self) }
    }

    /// Abandons the stream with RST_STREAM.
    public func reset(_ code: HTTP2ErrorCode = .cancel) {
        onLoop { $0.reset(self, code) }
    }

    /// Releases `bytes` of received body back to the peer's flow-control windows. Call it when
    /// the bytes have been taken off the stream; until then the peer cannot send more.
    public func consumed(_ bytes: Int) {
        if let connection = connectionIfOnLoop { return connection.consumed(bytes, on: self) }
        onLoop { $0.consumed(bytes, on: self) }
    }

    /// The connection, when called on its loop with the stream open: the common case, done
    /// without allocating a closure.
    private var connectionIfOnLoop: HTTP2ConnectionHandler? {
        guard eventLoop.inEventLoop, !isClosed else { return nil }
        return connection
    }

    private func onLoop(failing promise: EventLoopPromise<Void>? = nil, _ body: @escaping @Sendable (HTTP2ConnectionHandler) -> Void) {
        if eventLoop.inEventLoop {
            guard let connection, !isClosed else {
                promise?.fail(HTTP2Error.connectionClosed(detail: "stream \(id) is closed"))
                return
            }
            body(connection)
        } else {
            eventLoop.execute { self.onLoop(failing: promise, body) }
        }
    }
}
