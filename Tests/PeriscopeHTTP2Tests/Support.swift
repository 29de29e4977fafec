import NIOCore
import NIOPosix
@testable import PeriscopeHTTP2
import Synchronization

/// A server stream that answers once the request is complete:
/// `/echo` returns the request body, `/bytes/N` returns N bytes, `/trailers` ends with
/// trailers, `/hang` never answers. Response bodies go out in 64 KiB writes that honour
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

/// Collects a response on the client side and hands it over when the stream closes.
final class CollectingStream: HTTP2StreamDelegate, @unchecked Sendable {
    struct Response: Sendable {
        var headers: HTTP2Headers?
        var body = ByteBuffer()
        var trailers: HTTP2Headers?
        var error: HTTP2Error?
    }

    private var response = Response()
    private let promise: EventLoopPromise<Response>

    init(_ promise: EventLoopPromise<Response>) { self.promise = promise }

    func receive(_ part: HTTP2StreamPart, on stream: HTTP2Stream) {
        switch part {
        case .headers(let headers, _):
            if response.headers == nil { response.headers = headers } else { response.trailers = headers }
        case .data(var bytes, _):
            stream.consumed(bytes.readableBytes)
            response.body.writeBuffer(&bytes)
        }
    }

    func streamClosed(_ stream: HTTP2Stream, error: HTTP2Error?) {
        response.error = error
        promise.succeed(response)
    }
}

extension HTTP2ClientConnection {
    /// One request, the whole response.
    func fetch(_ path: String, method: String = "GET", body: ByteBuffer? = nil,
               extraHeaders: [(String, String)] = []) async throws -> CollectingStream.Response {
        var headers: HTTP2Headers = [":method": method, ":scheme": "http", ":authority": "localhost", ":path": path]
        for (name, value) in extraHeaders { headers.add(name, value) }
        let promise = channel.eventLoop.makePromise(of: CollectingStream.Response.self)
        let stream = try await openStream(headers, endStream: body == nil, delegate: CollectingStream(promise))
        if let body { try await stream.write(body, endStream: true).get() }
        return try await promise.futureResult.get()
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

import Foundation

struct ToolResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs an external program (curl, nghttp, python…) to completion, killing it after `timeout`.
func runTool(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(60)) async throws -> ToolResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let stdout = Pipe(), stderr = Pipe()
    process.standardOutput = stdout
    process.standardError = stderr
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let killer = Task {
        try await Task.sleep(for: timeout)
        process.terminate()
    }
    // Read both pipes fully before waiting, so a chatty tool cannot block on a full pipe.
    async let out = Task.detached { stdout.fileHandleForReading.readDataToEndOfFile() }.value
    async let err = Task.detached { stderr.fileHandleForReading.readDataToEndOfFile() }.value
    let (outData, errData) = await (out, err)
    await Task.detached { process.waitUntilExit() }.value
    killer.cancel()
    return ToolResult(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
}
