import NIOCore
import NIOPosix
@testable import PeriscopeHTTP2
import Testing

@Suite("HTTP/2 interop with curl and nghttp")
struct InteropTests {
    @Test func curlPriorKnowledge() async throws {
        let server = try await startTestServer()
        defer { Task { await server.shutdown() } }
        let url = "http://127.0.0.1:\(server.localAddress.port!)"
        let get = try await runTool("/usr/bin/curl", ["-sS", "--http2-prior-knowledge", "-o", "/dev/null",
                                                      "-w", "%{http_version} %{http_code} %{size_download}", "\(url)/bytes/300000"])
        #expect(get.status == 0, "\(get.stderr)")
        #expect(get.stdout == "2 200 300000")
        let post = try await runTool("/usr/bin/curl", ["-sS", "--http2-prior-knowledge", "--data-binary", "ping-pong", "\(url)/echo"])
        #expect(post.stdout == "ping-pong")
    }

    @Test func nghttpManyConcurrentStreams() async throws {
        let server = try await startTestServer()
        defer { Task { await server.shutdown() } }
        let url = "http://127.0.0.1:\(server.localAddress.port!)/bytes/5000"
        // -m 200: the same URI 200 times, all as concurrent streams on one connection.
        let result = try await runTool("/usr/bin/nghttp", ["-n", "-s", "-m", "200", url])
        #expect(result.status == 0, "\(result.stderr)")
        let completed = result.stdout.split(separator: "\n").filter { $0.contains("/bytes/5000") && $0.contains("200") }
        #expect(completed.count == 200, "\(result.stdout.prefix(2000))")
        #expect(server.statistics.acceptedStreams == 200)
    }
}
