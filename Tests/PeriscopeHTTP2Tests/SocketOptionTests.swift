import Foundation
import NIOCore
import NIOPosix
@testable import PeriscopeHTTP2
import Testing

/// What the sockets are really set to (issue 20: `.socketOption(.tcp_nodelay)` set SO_DEBUG
/// at SOL_SOCKET instead, which non-root users are refused), and where a client leaves from.
@Suite("Socket options and source addresses")
struct SocketOptionTests {
    @Test func tcpNoDelayIsOnOnBothSidesAndSoDebugIsOff() async throws {
        let server = try await startTestServer()
        let client = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: server.localAddress.port!,
                                                             group: MultiThreadedEventLoopGroup.singleton)
        #expect(try await client.fetch("/bytes/1").headers?.status == 200)
        #expect(try await client.channel.getOption(.tcpOption(.tcp_nodelay)).get() != 0)
        #expect(try await client.channel.getOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_DEBUG))).get() == 0)
        let accepted = server.connections.all.map(\.0)
        #expect(accepted.count == 1)
        for channel in accepted {
            #expect(try await channel.getOption(.tcpOption(.tcp_nodelay)).get() != 0)
            #expect(try await channel.getOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_DEBUG))).get() == 0)
        }
        await client.close()
        await server.shutdown()
    }

    @Test func aClientLeavesFromTheAddressItIsGiven() async throws {
        let server = try await startTestServer()
        let client = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: server.localAddress.port!,
                                                             group: MultiThreadedEventLoopGroup.singleton, localHost: "127.0.0.77")
        #expect(try await client.fetch("/bytes/1").headers?.status == 200)
        #expect(client.channel.localAddress?.ipAddress == "127.0.0.77")
        #expect(server.connections.all.map { $0.0.remoteAddress?.ipAddress } == ["127.0.0.77"])
        await client.close()
        await #expect(throws: (any Error).self) {
            _ = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: server.localAddress.port!,
                                                        group: MultiThreadedEventLoopGroup.singleton, localHost: "not-an-address")
        }
        await server.shutdown()
    }
}
