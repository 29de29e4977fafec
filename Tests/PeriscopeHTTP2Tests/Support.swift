import NIOCore
import NIOPosix
@testable import PeriscopeHTTP2
import Synchronization
@_exported import PeriscopeTestSupport

/// A server stream that answers once the request is complete:
/// `/echo` returns the request body, `/bytes/N` returns N bytes, `/trailers` ends with
/// trailers, `/delay/MS` answers after MS milliseconds, `/hang` never reads its body nor answers. Response bodies go out in 64 KiB writes that honour
/// the stream's back-pressure.
final class TestServerStream: HTTP2StreamDelegate, @unchecked Sendable {
    private var path = ""
    private var body: ByteBuffer

    init(allocator: ByteBufferAllocator = .init()) { body = allocator.buffer(capacity: 0) }

    func receive(_ part: HTTP2StreamPart, on stream: HTTP2Stream) {
        switch part {
        case .headers(let headers, let endStream):
            path = headers.path ?? ""
            if endStream { respond(on: stream) }
        case .data(var bytes, let endStream):
            guard path != "/hang" else { return }  // a stuck handler: takes nothing, answers nothing
            stream.consumed(bytes.readableBytes)
            body.writeBuffer(&bytes)
            if endStream { respond(on: stream) }
        }
    }

    func streamClosed(_ stream: HTTP2Stream, error: HTTP2Error?) {}

    private func respond(on stream: HTTP2Stream) {
        switch path {
        case "/hang":
            return
        case let delay where delay.hasPrefix("/delay/"):
            let milliseconds = Int64(delay.dropFirst("/delay/".count)) ?? 0
            stream.eventLoop.scheduleTask(in: .milliseconds(milliseconds)) {
                stream.sendHeaders([":status": "200"], endStream: false)
                stream.write(ByteBuffer(string: "waited \(milliseconds) ms"), endStream: true)
            }
        case "/trailers":
            stream.sendHeaders([":status": "200"], endStream: false)
            stream.write(ByteBuffer(string: "body"))
            stream.sendTrailers(["x-checksum": "\(body.readableBytes)"])
        case let bytes where bytes.hasPrefix("/bytes/"):
            let count = Int(bytes.dropFirst("/bytes/".count)) ?? 0
            stream.sendHeaders([":status": "200", "content-length": "\(count)"], endStream: count == 0)
            if count > 0 { writePattern(count: count, offset: 0, on: stream) }
        default:
            stream.sendHeaders([":status": "200", "content-length": "\(body.readableBytes)"], endStream: body.readableBytes == 0)
            if body.readableBytes > 0 { stream.write(body, endStream: true) }
        }
    }

    /// Writes `count` bytes of a known pattern in 64 KiB pieces, waiting on back-pressure.
    private func writePattern(count: Int, offset: Int, on stream: HTTP2Stream) {
        let piece = min(64 << 10, count - offset)
        let buffer = ByteBuffer(bytes: (offset..<(offset + piece)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let isLast = offset + piece == count
        stream.write(buffer, endStream: isLast).whenSuccess {
            if !isLast { self.writePattern(count: count, offset: offset + piece, on: stream) }
        }
    }
}

/// A server on 127.0.0.1 with an ephemeral port, answering with `TestServerStream`.
func startTestServer(configuration: HTTP2ConnectionConfiguration = .init(),
                     tls: HTTP2TLS.Server? = nil) async throws -> HTTP2Server {
    try await HTTP2Server.start(host: "127.0.0.1", port: 0, configuration: configuration, tls: tls,
                                group: MultiThreadedEventLoopGroup.singleton) { _ in TestServerStream() }
}

func pattern(count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) }
}

