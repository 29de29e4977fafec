import NIOCore
import PeriscopeHTTP2

/// A gRPC-compatible server: the router's methods over PeriscopeHTTP2, answering
/// `application/grpc` and `application/json` alike.
public final class RPCServer: Sendable {
    private let http2: HTTP2Server
    private let unaryCalls: UnaryCallCounter
    private let gracePeriod: TimeAmount

    public var localAddress: SocketAddress { http2.localAddress }
    public var statistics: HTTP2ServerStatistics { http2.statistics }

    public static func start(
        host: String,
        port: Int,
        router: RPCRouter,
        limits: RPCLimits = .init(),
        configuration: HTTP2ConnectionConfiguration = .init(),
        tls: HTTP2TLS.Server? = nil,
        group: any EventLoopGroup
    ) async throws -> RPCServer {
        let http2 = try await HTTP2Server.start(host: host, port: port, configuration: configuration, tls: tls,
                                                group: group) { _ in
            RPCServerCall(router: router, limits: limits)
        }
        return RPCServer(http2: http2, unaryCalls: router.unaryCalls, gracePeriod: configuration.gracefulShutdownTimeout)
    }

    private init(http2: HTTP2Server, unaryCalls: UnaryCallCounter, gracePeriod: TimeAmount) {
        self.http2 = http2
        self.unaryCalls = unaryCalls
        self.gracePeriod = gracePeriod
    }

    /// GOAWAY to every client, in-flight calls finish (bounded by the graceful timeout), close.
    /// With `closingStreamsAfterUnaryCalls`, connections close as soon as no unary call runs:
    /// long-lived streams (peers' replication streams, which end only when their peer ends
    /// them) are cut instead of holding the shutdown for the whole graceful timeout.
    public func shutdown(closingStreamsAfterUnaryCalls: Bool = false) async {
        guard closingStreamsAfterUnaryCalls else { return await http2.shutdown() }
        http2.beginShutdown()
        let deadline = NIODeadline.now() + gracePeriod
        while unaryCalls.count > 0, NIODeadline.now() < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        await http2.closeAll()
    }
}
