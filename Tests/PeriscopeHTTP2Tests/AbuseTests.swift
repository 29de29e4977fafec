import NIOCore
import NIOPosix
@testable import PeriscopeHTTP2
import Testing

/// Bad input at the HTTP/2 level: each gets the error RFC 9113 names, the server stays up,
/// other connections are unaffected, and nothing is left behind.
@Suite("HTTP/2 under abuse")
struct AbuseTests {
    /// After each abuse, a well-behaved client must still be served.
    func expectServerStillServes(_ server: HTTP2Server) async throws {
        let client = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: server.localAddress.port!,
                                                             group: MultiThreadedEventLoopGroup.singleton)
        let response = try await client.fetch("/bytes/100")
        #expect(response.headers?.status == 200)
        #expect(response.body.readableBytes == 100)
        await client.close()
    }

    @Test func garbageInsteadOfPrefaceGetsGoAwayProtocolError() async throws {
        let server = try await startTestServer()
        let peer = try await RawPeer.connect(port: server.localAddress.port!)
        try await peer.send(Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
        let goAway = await peer.waitForFrame { $0.type == RawPeer.Frame.goAway }
        #expect(goAway?.errorCode == HTTP2ErrorCode.protocolError.rawValue, "\(peer.frames)")
        #expect(await peer.waitForClose())
        #expect(server.statistics.connectionsFailedByProtocolError == 1)
        try await expectServerStillServes(server)
        await server.shutdown()
    }

    @Test func frameLargerThanSettingsGetsGoAwayFrameSizeError() async throws {
        let server = try await startTestServer()
        let peer = try await RawPeer.connect(port: server.localAddress.port!)
        let oversized = Wire.frame(type: RawPeer.Frame.data, stream: 1, payload: [UInt8](repeating: 0, count: 20_000))
        try await peer.send(Wire.preface + Wire.emptySettings + oversized)
        let goAway = await peer.waitForFrame { $0.type == RawPeer.Frame.goAway }
        #expect(goAway?.errorCode == HTTP2ErrorCode.frameSizeError.rawValue, "\(peer.frames)")
        #expect(await peer.waitForClose())
        try await expectServerStillServes(server)
        await server.shutdown()
    }

    @Test func truncatedFrameThenHangUpLeavesNothingBehind() async throws {
        let server = try await startTestServer()
        let peer = try await RawPeer.connect(port: server.localAddress.port!)
        // A HEADERS frame announcing 100 bytes, of which 10 arrive; then the peer hangs up.
        let truncated = Array(Wire.frame(type: RawPeer.Frame.headers, flags: 0x4, stream: 1,
                                         payload: [UInt8](repeating: 0x83, count: 100)).prefix(19))
        try await peer.send(Wire.preface + Wire.emptySettings + truncated)
        try await Task.sleep(for: .milliseconds(50))
        await peer.close()
        #expect(await waitUntil(server.statistics.openConnections == 0))
        #expect(server.statistics.openStreams == 0)
        try await expectServerStillServes(server)
        await server.shutdown()
    }

    @Test func headerListOverTheLimitGets431AndTheConnectionLives() async throws {
        var configuration = HTTP2ConnectionConfiguration()
        configuration.settings.maxHeaderListBytes = 4_096
        let server = try await startTestServer(configuration: configuration)
        let client = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: server.localAddress.port!,
                                                             group: MultiThreadedEventLoopGroup.singleton)
        let big = String(repeating: "x", count: 6_000)
        let refused = try await client.fetch("/bytes/10", extraHeaders: [("x-big", big)])
        #expect(refused.headers?.status == 431)
        #expect(String(buffer: refused.body).contains("exceeds SETTINGS_MAX_HEADER_LIST_SIZE (4096 bytes)"))
        let fine = try await client.fetch("/bytes/10")
        #expect(fine.headers?.status == 200)
        await client.close()
        await server.shutdown()
    }

    @Test func streamsBeyondMaxConcurrentAreRefused() async throws {
        var configuration = HTTP2ConnectionConfiguration()
        configuration.settings.maxConcurrentStreams = 4
        let server = try await startTestServer(configuration: configuration)
        let peer = try await RawPeer.connect(port: server.localAddress.port!)
        var bytes = Wire.preface + Wire.emptySettings
        for stream in stride(from: UInt32(1), through: 11, by: 2) {  // six streams that stay open
            bytes += Wire.headers(stream: stream, block: Wire.requestBlock(path: "/hang"), endStream: true)
        }
        try await peer.send(bytes)
        let refused = await peer.waitForFrame { $0.type == RawPeer.Frame.rstStream && $0.streamID == 11 }
        #expect(refused?.errorCode == HTTP2ErrorCode.refusedStream.rawValue
            || refused?.errorCode == HTTP2ErrorCode.protocolError.rawValue, "\(peer.frames)")
        #expect(peer.frames.contains { $0.type == RawPeer.Frame.rstStream && $0.streamID == 9 })
        #expect(!peer.frames.contains { $0.type == RawPeer.Frame.rstStream && $0.streamID <= 7 })
        #expect(server.statistics.openStreams == 4)
        // The connection itself is fine: it answers PING.
        try await peer.send(Wire.frame(type: RawPeer.Frame.ping, stream: 0, payload: [1, 2, 3, 4, 5, 6, 7, 8]))
        #expect(await peer.waitForFrame { $0.type == RawPeer.Frame.ping && $0.flags & 1 == 1 } != nil)
        await peer.close()
        #expect(await waitUntil(server.statistics.openStreams == 0))
        await server.shutdown()
    }

    @Test func aClientThatOpensStreamsAndVanishesLeavesNothingBehind() async throws {
        let server = try await startTestServer()
        let peer = try await RawPeer.connect(port: server.localAddress.port!)
        var bytes = Wire.preface + Wire.emptySettings
        for stream in stride(from: UInt32(1), through: 99, by: 2) {
            bytes += Wire.headers(stream: stream, block: Wire.requestBlock(path: "/hang"), endStream: false)
        }
        try await peer.send(bytes)
        #expect(await waitUntil(server.statistics.openStreams == 50))
        await peer.close()
        #expect(await waitUntil(server.statistics.openStreams == 0 && server.statistics.openConnections == 0))
        try await expectServerStillServes(server)
        await server.shutdown()
    }

    /// Memory stays bounded by the windows we announce: a peer that sends past them (into a
    /// stream whose handler takes nothing) is stopped with FLOW_CONTROL_ERROR.
    @Test func aPeerThatIgnoresFlowControlIsStopped() async throws {
        var configuration = HTTP2ConnectionConfiguration()
        configuration.settings.initialStreamWindowBytes = 65_535
        let server = try await startTestServer(configuration: configuration)
        let peer = try await RawPeer.connect(port: server.localAddress.port!)
        var bytes = Wire.preface + Wire.emptySettings
            + Wire.headers(stream: 1, block: Wire.requestBlock(path: "/hang"), endStream: false)
        for _ in 0..<8 {  // 128 KiB into a 64 KiB window
            bytes += Wire.frame(type: RawPeer.Frame.data, stream: 1, payload: [UInt8](repeating: 7, count: 16_384))
        }
        try await peer.send(bytes)
        let stopped = await peer.waitForFrame {
            ($0.type == RawPeer.Frame.rstStream || $0.type == RawPeer.Frame.goAway)
                && $0.errorCode == HTTP2ErrorCode.flowControlError.rawValue
        }
        #expect(stopped != nil, "\(peer.frames)")
        await peer.close()
        #expect(await waitUntil(server.statistics.openStreams == 0))
        try await expectServerStillServes(server)
        await server.shutdown()
    }

    @Test func aPeerThatStopsAnsweringIsDroppedByKeepalive() async throws {
        var configuration = HTTP2ConnectionConfiguration()
        configuration.keepaliveInterval = .milliseconds(100)
        configuration.keepaliveTimeout = .milliseconds(200)
        let server = try await startTestServer(configuration: configuration)
        let peer = try await RawPeer.connect(port: server.localAddress.port!)
        // Opens a stream, then never answers anything (no SETTINGS ACK, no PING ACK). On a slow
        // machine the server may already have given up before this send: that is fine too.
        try? await peer.send(Wire.preface + Wire.emptySettings
            + Wire.headers(stream: 1, block: Wire.requestBlock(path: "/hang"), endStream: false))
        #expect(await peer.waitForClose(timeout: .seconds(3)))
        #expect(server.statistics.connectionsTimedOut == 1)
        #expect(server.statistics.openStreams == 0)
        await server.shutdown()
    }

    @Test func shutdownDrainsStartedStreamsWithGoAway() async throws {
        let server = try await startTestServer()
        let client = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: server.localAddress.port!,
                                                             group: MultiThreadedEventLoopGroup.singleton)
        async let slow = client.fetch("/delay/300")
        try await Task.sleep(for: .milliseconds(100))
        let started = ContinuousClock.now
        await server.shutdown()
        let response = try await slow
        #expect(response.headers?.status == 200)
        #expect(String(buffer: response.body) == "waited 300 ms")
        #expect(ContinuousClock.now - started < .seconds(5))
        try await client.closeFuture.get()  // the server closed it after the last stream
        await #expect(throws: (any Error).self) {
            _ = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: server.localAddress.port!,
                                                        group: MultiThreadedEventLoopGroup.singleton)
        }
    }
}
