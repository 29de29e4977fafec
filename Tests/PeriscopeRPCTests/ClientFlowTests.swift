import Foundation
import NIOCore
import NIOPosix
import PeriscopeAPI
import PeriscopeHTTP2
import PeriscopeRPC
import Synchronization
import Testing

/// How the Swift client treats the server's side of a call: it slows a server that sends
/// faster than the caller reads, and it releases streams the caller is done with, whether
/// it stopped early, gave up at a deadline or never saw a response.
@Suite("RPC: client flow control and stream release")
struct ClientFlowTests {
    static let flood = RPCMethod<Periscope_V1_EchoRequest, Periscope_V1_EchoResponse>(service: "periscope.test.Flood", name: "Flood")

    /// A server whose Flood method sends `response_bytes`-sized messages until cancelled,
    /// counting what it managed to send.
    func startFloodServer(sent: Arc<Atomic<Int>>) async throws -> RPCServer {
        var router = RPCRouter()
        DiagnosticsService().register(in: &router)
        router.serverStreaming(Self.flood) { request, responses, _ in
            let message = Periscope_V1_EchoResponse.with { $0.payload = Data(count: Int(request.responseBytes)) }
            while true {
                try await responses.send(message)
                sent.value.add(1, ordering: .relaxed)
            }
        }
        return try await RPCServer.start(host: "127.0.0.1", port: 0, router: router,
                                         group: MultiThreadedEventLoopGroup.singleton)
    }

    /// A caller that stops reading stops the server after a bounded amount (its 4 MiB of
    /// buffer, one message, the stream window and the server's own buffer: about 7 MiB),
    /// then gets everything once it reads again; returning early releases the stream.
    @Test func aCallerThatStopsReadingStopsTheServer() async throws {
        let sent = Arc(Atomic<Int>(0))
        let server = try await startFloodServer(sent: sent)
        let connection = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: server.localAddress.port!,
                                                                 group: MultiThreadedEventLoopGroup.singleton)
        let client = RPCClient(connection: connection, authority: "localhost", maxReceiveMessageBytes: 1 << 20)
        let messageBytes = 64 << 10
        let read = try await client.bidirectionalStreaming(Self.flood) { requests, responses in
            try await requests.send(.with { $0.responseBytes = UInt32(messageBytes) })
            try await requests.finish()
            var iterator = responses.makeAsyncIterator()
            _ = try await iterator.next()
            // Not reading: the server fills what it may and then waits.
            var previous = -1
            let giveUp = ContinuousClock.now + .seconds(5)
            while sent.value.load(ordering: .relaxed) != previous && ContinuousClock.now < giveUp {
                previous = sent.value.load(ordering: .relaxed)
                try await Task.sleep(for: .milliseconds(300))
            }
            let stalledAt = sent.value.load(ordering: .relaxed)
            #expect(stalledAt * messageBytes <= 9 << 20, "the server sent \(stalledAt) messages to a caller that read one")
            // Reading again: the server resumes, well past what it could send while stalled.
            var count = 1
            while count < 400 {
                guard let message = try await iterator.next() else { break }
                #expect(message.payload.count == messageBytes)
                count += 1
            }
            return count
        }
        #expect(read == 400)
        // The caller returned mid-stream: the stream is reset and the handler cancelled.
        #expect(await waitUntil(server.statistics.openStreams == 0))
        await client.close()
        await server.shutdown()
    }

    /// A deadline that passes before any response still resets the stream, so the server
    /// stops working on the call.
    @Test func aDeadlineBeforeAnyResponseReleasesTheServerStream() async throws {
        let server = try await startRPCServer()
        let client = try await RPCClient.connect(host: "127.0.0.1", port: server.localAddress.port!)
        // No grpc-timeout: only the client knows it gave up.
        await #expect(throws: RPCStatus.self) {
            _ = try await client.bidirectionalStreaming(DiagnosticsMethods.echoStream, timeout: nil) { requests, responses in
                try await requests.send(.with { $0.delayMs = 10_000 })
                try await Task.sleep(for: .milliseconds(100))
                throw RPCStatus(.cancelled, "the caller gave up")
            }
        }
        #expect(await waitUntil(server.statistics.openStreams == 0, timeout: .seconds(3)))

        let started = ContinuousClock.now
        await #expect(throws: RPCStatus.self) {
            _ = try await client.unary(DiagnosticsMethods.echo, .with { $0.delayMs = 10_000 }, timeout: .milliseconds(200))
        }
        // Far below the handler's 10 s, with room for a machine busy with other tests.
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(await waitUntil(server.statistics.openStreams == 0, timeout: .seconds(3)))
        await client.close()
        await server.shutdown()
    }

    /// A caller that returns from a bidirectional call without finishing its side leaves
    /// nothing open on either end.
    @Test func returningWithoutFinishingReleasesTheStream() async throws {
        let server = try await startRPCServer()
        let client = try await RPCClient.connect(host: "127.0.0.1", port: server.localAddress.port!)
        for _ in 0..<20 {
            let answer = try await client.bidirectionalStreaming(DiagnosticsMethods.echoStream) { requests, responses in
                try await requests.send(.with { $0.payload = Data("hi".utf8) })
                var iterator = responses.makeAsyncIterator()
                return try await iterator.next()?.payload
            }
            #expect(answer == Data("hi".utf8))
        }
        #expect(await waitUntil(server.statistics.openStreams == 0, timeout: .seconds(3)))
        #expect(server.statistics.acceptedStreams == 20)
        await client.close()
        await server.shutdown()
    }
}

/// A reference to a non-copyable atomic, to share one between a test and a handler.
final class Arc<Value: ~Copyable & Sendable>: Sendable {
    let value: Value
    init(_ value: consuming Value) { self.value = value }
}
