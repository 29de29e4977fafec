import NIOCore
import NIOPosix
@testable import PeriscopeHTTP2
import Synchronization
import Testing

@Suite("HTTP/2 over real sockets, our client and server")
struct ConnectionTests {
    @Test func getAndEcho() async throws {
        let server = try await startTestServer()
        let client = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: server.localAddress.port!,
                                                             group: MultiThreadedEventLoopGroup.singleton)
        let get = try await client.fetch("/bytes/10")
        #expect(get.headers?.status == 200)
        #expect(get.body.readableBytesView.elementsEqual(pattern(count: 10)))
        #expect(get.error == nil)

        let echo = try await client.fetch("/echo", method: "POST", body: ByteBuffer(string: "hello"))
        #expect(String(buffer: echo.body) == "hello")

        let withTrailers = try await client.fetch("/trailers", method: "POST", body: ByteBuffer(string: "12345"))
        #expect(withTrailers.trailers?["x-checksum"] == "5")
        #expect(String(buffer: withTrailers.body) == "body")
        await client.close()
        await server.shutdown()
    }

    /// Graceful shutdown stops new streams, not old ones: a body still being uploaded when
    /// the server begins to drain arrives whole and is answered.
    @Test func shutdownKeepsReadingABodyStillBeingUploaded() async throws {
        let server = try await startTestServer()
        let client = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: server.localAddress.port!,
                                                             group: MultiThreadedEventLoopGroup.singleton)
        let promise = client.channel.eventLoop.makePromise(of: CollectingStream.Response.self)
        let headers: HTTP2Headers = [":method": "POST", ":scheme": "http", ":authority": "localhost", ":path": "/echo"]
        let stream = try await client.openStream(headers, endStream: false, delegate: CollectingStream(promise))
        let body = pattern(count: 200_000)
        try await stream.write(ByteBuffer(bytes: body[..<100_000]), endStream: false).get()
        try await Task.sleep(for: .milliseconds(50))
        async let shutdown: Void = server.shutdown()
        try await Task.sleep(for: .milliseconds(100))  // the GOAWAY is out before the rest
        try await stream.write(ByteBuffer(bytes: body[100_000...]), endStream: true).get()
        let response = try await promise.futureResult.get()
        #expect(response.error == nil)
        #expect(response.headers?.status == 200)
        #expect(response.body.readableBytesView.elementsEqual(body))
        await shutdown
        try await client.closeFuture.get()
    }

    /// PING on a closed connection fails at once instead of waiting forever.
    @Test func pingAfterCloseFails() async throws {
        let server = try await startTestServer()
        let client = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: server.localAddress.port!,
                                                             group: MultiThreadedEventLoopGroup.singleton)
        #expect(try await client.ping() < .seconds(5))
        await client.close()
        let outcome = Mutex<Result<TimeAmount, any Error>?>(nil)
        Task {
            let result: Result<TimeAmount, any Error>
            do { result = .success(try await client.ping()) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
        }
        let deadline = ContinuousClock.now + .seconds(5)
        while outcome.withLock({ $0 == nil }) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let result = outcome.withLock { $0 }
        #expect(result != nil, "ping on a closed connection never completed")
        if case .success = result { Issue.record("ping on a closed connection succeeded") }
        await server.shutdown()
    }
}
