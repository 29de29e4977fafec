import NIOCore
import PeriscopeHTTP2

/// A gRPC-compatible server: the router's methods over PeriscopeHTTP2, answering
/// `application/grpc` and `application/json` alike.
public final class RPCServer: Sendable {
    private let http2: HTTP2Server

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
        return RPCServer(http2: http2)
    }

    private init(http2: HTTP2Server) { self.http2 = http2 }

    /// GOAWAY to every client, in-flight calls finish (bounded by the graceful timeout), close.
    public func shutdown() async { await http2.shutdown() }
}
