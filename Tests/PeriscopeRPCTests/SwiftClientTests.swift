import Foundation
import NIOCore
import NIOPosix
import PeriscopeAPI
import PeriscopeHTTP2
import PeriscopeRPC
import Testing

@Suite("RPC: our Swift client against our server")
struct SwiftClientTests {
    func connect(_ server: RPCServer) async throws -> RPCClient {
        try await RPCClient.connect(host: "127.0.0.1", port: server.localAddress.port!)
    }

    @Test func unaryCallsStatusesAndDeadlines() async throws {
        let server = try await startRPCServer()
        let client = try await connect(server)
        let health = try await client.unary(HealthMethods.check, .init())
        #expect(health.status == .serving)

        let echo = try await client.unary(DiagnosticsMethods.echo, .with { $0.payload = Data("hi".utf8) })
        #expect(echo.payload == Data("hi".utf8))

        await #expect(throws: RPCStatus(.notFound, "missing: 100% ünïcode")) {
            _ = try await client.unary(DiagnosticsMethods.echo, .with {
                $0.failWithCode = 5
                $0.failWithMessage = "missing: 100% ünïcode"
            })
        }
        let started = ContinuousClock.now
        do {
            _ = try await client.unary(DiagnosticsMethods.echo, .with { $0.delayMs = 30_000 }, timeout: .milliseconds(150))
            Issue.record("no deadline error")
        } catch {
            #expect(error.code == .deadlineExceeded)
        }
        // Far sooner than the 30 s delay; the allowance is for a machine loaded by other tests.
        #expect(ContinuousClock.now - started < .seconds(10))
        // The connection is still good after the deadline.
        #expect(try await client.unary(DiagnosticsMethods.echo, .with { $0.payload = Data([1]) }).payload == Data([1]))

        let unknown = RPCMethod<Periscope_V1_EchoRequest, Periscope_V1_EchoResponse>(service: "periscope.v1.Diagnostics", name: "Nope")
        await #expect(throws: RPCStatus(.unimplemented, "unknown method /periscope.v1.Diagnostics/Nope")) {
            _ = try await client.unary(unknown, .init())
        }
        await client.close()
        await server.shutdown()
    }

    @Test func bidirectionalStreaming() async throws {
        let server = try await startRPCServer()
        let client = try await connect(server)
        let sequences = try await client.bidirectionalStreaming(DiagnosticsMethods.echoStream) { requests, responses in
            var iterator = responses.makeAsyncIterator()
            var seen: [UInt64] = []
            for index in 0..<50 {  // strictly alternating: each answer before the next request
                try await requests.send(.with { $0.payload = Data("\(index)".utf8) })
                let response = try await iterator.next()
                #expect(response?.payload == Data("\(index)".utf8))
                seen.append(response?.sequence ?? 0)
            }
            try await requests.finish()
            #expect(try await iterator.next() == nil)
            return seen
        }
        #expect(sequences == Array(1...50))

        do {
            _ = try await client.bidirectionalStreaming(DiagnosticsMethods.echoStream) { requests, responses in
                try await requests.send(.with { $0.failWithCode = 10; $0.failWithMessage = "aborted on purpose" })
                try await requests.finish()
                for try await _ in responses {}
            }
            Issue.record("no error")
        } catch {
            #expect(error == RPCStatus(.aborted, "aborted on purpose"))
        }
        await client.close()
        await server.shutdown()
    }

    /// 1,000 concurrent calls on one connection, each carrying 1 MiB each way.
    @Test func thousandConcurrentStreamsWithOneMebibyteBodies() async throws {
        let server = try await startRPCServer()
        let client = try await connect(server)
        let body = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let started = ContinuousClock.now
        let matched = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<1_000 {
                group.addTask {
                    var payload = body
                    payload[0] = UInt8(truncatingIfNeeded: index)
                    let response = try await client.unary(DiagnosticsMethods.echo, .with { $0.payload = payload },
                                                          timeout: .seconds(120))
                    return response.payload == payload
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(matched == 1_000)
        #expect(server.statistics.acceptedStreams == 1_000)
        #expect(server.statistics.acceptedConnections == 1)
        print("1,000 × 1 MiB echo calls on one connection: \(ContinuousClock.now - started)")
        await client.close()
        await server.shutdown()
    }
}
