import NIOCore
import NIOPosix
import PeriscopeAPI
import PeriscopeHTTP2
import PeriscopeRPC
import Testing

/// Bad input at the gRPC level, sent as crafted bodies over a real HTTP/2 connection. Each
/// gets the status gRPC names, and the connection keeps working.
@Suite("RPC: bad requests")
struct BadRequestTests {
    func call(_ connection: HTTP2ClientConnection, path: String, body: [UInt8],
              headers: [(String, String)] = []) async throws -> (status: Int?, message: String?) {
        let response = try await connection.fetch(path, method: "POST", body: ByteBuffer(bytes: body),
                                                  extraHeaders: [("content-type", "application/grpc"), ("te", "trailers")] + headers)
        // Trailers-only responses carry the status in the only header block.
        let statusBlock = response.trailers ?? response.headers
        return (statusBlock?["grpc-status"].flatMap { Int($0) }, statusBlock?["grpc-message"])
    }

    func framed(_ message: [UInt8], declaredLength: Int? = nil, flag: UInt8 = 0) -> [UInt8] {
        let length = UInt32(declaredLength ?? message.count)
        return [flag, UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + message
    }

    @Test func eachBadRequestGetsItsStatusAndTheConnectionLives() async throws {
        var limits = RPCLimits()
        limits.maxReceiveMessageBytes = 64 << 10
        let server = try await startRPCServer(limits: limits)
        let connection = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: server.localAddress.port!,
                                                                 group: MultiThreadedEventLoopGroup.singleton)
        let echo = DiagnosticsMethods.echo.path
        let valid: [UInt8] = try Periscope_V1_EchoRequest.with { $0.payload = .init([1, 2, 3]) }.serializedBytes()

        let unknown = try await call(connection, path: "/periscope.v1.Nope/Call", body: framed(valid))
        #expect(unknown.status == RPCStatus.Code.unimplemented.rawValue)
        #expect(unknown.message == "unknown method /periscope.v1.Nope/Call")

        let garbage = try await call(connection, path: echo, body: framed([0xFF, 0xFF, 0xFF, 0xFF, 0x0F]))
        #expect(garbage.status == RPCStatus.Code.invalidArgument.rawValue)
        #expect(garbage.message?.contains("not a valid periscope.v1.EchoRequest") == true, "\(garbage)")

        let lyingPrefix = try await call(connection, path: echo, body: framed(valid, declaredLength: 1_000))
        #expect(lyingPrefix.status == RPCStatus.Code.invalidArgument.rawValue)
        #expect(lyingPrefix.message?.contains("length prefix says 1000 bytes, \(valid.count) arrived") == true, "\(lyingPrefix)")

        let oversized = try await call(connection, path: echo, body: framed([], declaredLength: 1 << 20))
        #expect(oversized.status == RPCStatus.Code.resourceExhausted.rawValue)
        #expect(oversized.message?.contains("exceeds the limit of 65536 bytes") == true, "\(oversized)")

        let compressed = try await call(connection, path: echo, body: framed(valid, flag: 1))
        #expect(compressed.status == RPCStatus.Code.internalError.rawValue)

        let twoMessages = try await call(connection, path: echo, body: framed(valid) + framed(valid))
        #expect(twoMessages.status == RPCStatus.Code.invalidArgument.rawValue)

        let noMessage = try await call(connection, path: echo, body: [])
        #expect(noMessage.status == RPCStatus.Code.invalidArgument.rawValue)

        let badTimeout = try await call(connection, path: echo, body: framed(valid), headers: [("grpc-timeout", "soon")])
        #expect(badTimeout.status == RPCStatus.Code.invalidArgument.rawValue)
        #expect(badTimeout.message?.contains("malformed grpc-timeout 'soon'") == true)

        // The longest timeout the header can spell (99,999,999 hours) overflows Int64
        // nanoseconds; it is clamped, and the call runs normally.
        let longest = try await call(connection, path: echo, body: framed(valid), headers: [("grpc-timeout", "99999999H")])
        #expect(longest.status == 0, "\(longest)")
        let zero = try await call(connection, path: echo, body: framed(valid), headers: [("grpc-timeout", "0n")])
        #expect(zero.status == RPCStatus.Code.deadlineExceeded.rawValue, "\(zero)")

        let gzip = try await call(connection, path: echo, body: framed(valid), headers: [("grpc-encoding", "gzip")])
        #expect(gzip.status == RPCStatus.Code.unimplemented.rawValue)

        let fine = try await call(connection, path: echo, body: framed(valid))
        #expect(fine.status == 0)
        #expect(server.statistics.openConnections == 1)
        await connection.close()
        await server.shutdown()
    }

    /// RST_STREAM from the client ends the call on the server: the handler's task is
    /// cancelled and the stream is gone long before the handler's 30 s delay (the 10 s
    /// allowance is for a machine loaded by the tests running beside this one).
    @Test func clientResetCancelsTheCall() async throws {
        let server = try await startRPCServer()
        let connection = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: server.localAddress.port!,
                                                                 group: MultiThreadedEventLoopGroup.singleton)
        let slow: [UInt8] = try Periscope_V1_EchoRequest.with { $0.delayMs = 30_000 }.serializedBytes()
        let promise = connection.channel.eventLoop.makePromise(of: CollectingStream.Response.self)
        let headers: HTTP2Headers = [":method": "POST", ":scheme": "http", ":authority": "localhost",
                                     ":path": DiagnosticsMethods.echo.path, "content-type": "application/grpc"]
        let stream = try await connection.openStream(headers, endStream: false, delegate: CollectingStream(promise))
        try await stream.write(ByteBuffer(bytes: framed(slow)), endStream: true).get()
        try await Task.sleep(for: .milliseconds(100))
        #expect(server.statistics.openStreams == 1)
        let started = ContinuousClock.now
        stream.reset(.cancel)
        let response = try await promise.futureResult.get()
        #expect(response.error == .streamReset(.cancel))
        while server.statistics.openStreams > 0 && ContinuousClock.now - started < .seconds(10) {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(server.statistics.openStreams == 0)
        #expect(ContinuousClock.now - started < .seconds(10))
        await connection.close()
        await server.shutdown()
    }
}
