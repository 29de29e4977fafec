import NIOCore
import NIOPosix
@testable import PeriscopeHTTP2
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
}
