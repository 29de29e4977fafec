import NIOCore
@testable import PeriscopeHTTP2
import Testing

/// The nghttp2 session core without sockets: two sessions exchanging bytes in memory.
@Suite("nghttp2 session core")
struct SessionTests {
    /// Moves bytes both ways until neither side has anything to send; returns the events.
    func pump(_ client: NGHTTP2Session, _ server: NGHTTP2Session) throws -> (client: [SessionEvent], server: [SessionEvent]) {
        var clientEvents: [SessionEvent] = [], serverEvents: [SessionEvent] = []
        for _ in 0..<100 {
            var toServer = ByteBuffer(), toClient = ByteBuffer()
            try client.drainOutbound(into: &toServer)
            try server.drainOutbound(into: &toClient)
            if toServer.readableBytes == 0 && toClient.readableBytes == 0 { break }
            serverEvents += try server.receive(toServer)
            clientEvents += try client.receive(toClient)
        }
        return (clientEvents, serverEvents)
    }

    @Test func callsFromInsideCallbacksAreRefusedAndChangeNothing() throws {
        let client = try NGHTTP2Session(role: .client, settings: .init(), allocator: .init())
        let server = try NGHTTP2Session(role: .server, settings: .init(), allocator: .init())
        var refusals: [HTTP2Error] = []
        server.callbackHookForTesting = { session in
            do throws(HTTP2Error) {
                try session.submitPing(payload: 1)
            } catch {
                refusals.append(error)
            }
            var sink = ByteBuffer()
            do throws(HTTP2Error) { try session.drainOutbound(into: &sink) } catch { refusals.append(error) }
        }
        let streamID = try client.submitRequest([":method": "GET", ":scheme": "http", ":authority": "x", ":path": "/"],
                                                endStream: true)
        let first = try pump(client, server)
        #expect(first.server.contains { if case .headers(streamID, _, true) = $0 { true } else { false } })
        #expect(!refusals.isEmpty)
        #expect(refusals.allSatisfy {
            if case .reentrantCall = $0 { true } else { false }
        }, "\(refusals)")
        // The session is intact: the response still goes through.
        server.callbackHookForTesting = nil
        try server.submitResponse(streamID: streamID, [":status": "204"], endStream: true)
        let second = try pump(client, server)
        #expect(second.client.contains { if case .headers(streamID, let headers, true) = $0 { headers.status == 204 } else { false } })
        #expect(second.client.contains { if case .streamClosed(streamID, .noError) = $0 { true } else { false } })
    }

    @Test func largeBodyFlowsThroughSmallWindowsOnlyAsItIsConsumed() throws {
        var small = HTTP2Settings()
        small.initialStreamWindowBytes = 65_535
        small.connectionWindowBytes = 65_535
        let client = try NGHTTP2Session(role: .client, settings: .init(), allocator: .init())
        let server = try NGHTTP2Session(role: .server, settings: small, allocator: .init())
        let body = pattern(count: 1 << 20)
        let streamID = try client.submitRequest([":method": "POST", ":scheme": "http", ":authority": "x", ":path": "/"],
                                                endStream: false)
        try client.write(streamID: streamID, ByteBuffer(bytes: body), endStream: true)
        // Without consumption the server receives one window's worth and no more.
        var received = 0
        for event in try pump(client, server).server {
            if case .data(_, let bytes, _) = event { received += bytes.readableBytes }
        }
        #expect(received == 65_535)
        // Consuming what arrived opens the windows again, until all of it is through.
        var assembled: [UInt8] = []
        var ended = false
        for _ in 0..<100 where !ended {
            try server.consume(streamID: streamID, bytes: received)
            received = 0
            for event in try pump(client, server).server {
                if case .data(_, let bytes, let end) = event {
                    received += bytes.readableBytes
                    assembled += bytes.readableBytesView
                    ended = ended || end
                }
            }
        }
        #expect(ended)
        #expect(assembled.count == (1 << 20) - 65_535)
        #expect(assembled == Array(body.suffix(assembled.count)))
    }
}
