import NIOCore
import PeriscopeHTTP2

/// Collects a response on the client side and hands it over when the stream closes.
public final class CollectingStream: HTTP2StreamDelegate, @unchecked Sendable {
    public struct Response: Sendable {
        public var headers: HTTP2Headers?
        public var body = ByteBuffer()
        public var trailers: HTTP2Headers?
        public var error: HTTP2Error?
    }

    private var response = Response()
    private let promise: EventLoopPromise<Response>

    public init(_ promise: EventLoopPromise<Response>) { self.promise = promise }

    public func receive(_ part: HTTP2StreamPart, on stream: HTTP2Stream) {
        switch part {
        case .headers(let headers, _):
            if response.headers == nil { response.headers = headers } else { response.trailers = headers }
        case .data(var bytes, _):
            stream.consumed(bytes.readableBytes)
            response.body.writeBuffer(&bytes)
        }
    }

    public func streamClosed(_ stream: HTTP2Stream, error: HTTP2Error?) {
        response.error = error
        promise.succeed(response)
    }
}

extension HTTP2ClientConnection {
    /// One request with `body` sent whole, the whole response back.
    public func fetch(_ path: String, method: String = "GET", body: ByteBuffer? = nil,
                      extraHeaders: [(String, String)] = []) async throws -> CollectingStream.Response {
        var headers: HTTP2Headers = [":method": method, ":scheme": "http", ":authority": "localhost", ":path": path]
        for (name, value) in extraHeaders { headers.add(name, value) }
        let promise = channel.eventLoop.makePromise(of: CollectingStream.Response.self)
        do {
            let stream = try await openStream(headers, endStream: body == nil, delegate: CollectingStream(promise))
            if let body { try await stream.write(body, endStream: true).get() }
        } catch {
            // A stream that never opened (or failed mid-body) may never complete the promise:
            // left pending, NIO stops the process for leaking it. A later completion is ignored.
            promise.fail(error)
            throw error
        }
        return try await promise.futureResult.get()
    }
}

