import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A listening HTTP/2 server: h2c with prior knowledge, or TLS with ALPN `h2` when
/// certificates are given. Each accepted connection gets its own nghttp2 session on one of
/// the group's event loops; each stream a peer opens gets a delegate from `makeDelegate`.
public final class HTTP2Server: Sendable {
    public let localAddress: SocketAddress
    private let serverChannel: any Channel
    private let configuration: HTTP2ConnectionConfiguration
    private let statisticsBox: StatisticsBox
    /// Accepted connections (tests read their socket options).
    let connections: ConnectionRegistry

    public var statistics: HTTP2ServerStatistics { statisticsBox.current }

    /// Binds `host:port` (port 0 picks a free one; see `localAddress`).
    public static func start(
        host: String,
        port: Int,
        configuration: HTTP2ConnectionConfiguration = .init(),
        tls: HTTP2TLS.Server? = nil,
        group: any EventLoopGroup,
        logger: Logger = Logger(label: "periscope.http2"),
        makeDelegate: @escaping @Sendable (HTTP2Stream) -> any HTTP2StreamDelegate
    ) async throws -> HTTP2Server {
        try configuration.settings.validate()
        let sslContext = try tls?.makeContext()
        let statistics = StatisticsBox()
        let connections = ConnectionRegistry()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1_024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Set here rather than as a child channel option: a failing option there
                    // closes the accepted connection without a word. TCP_NODELAY is a TCP-level
                    // option (`.socketOption` would set SO_DEBUG, refused to non-root users).
                    do {
                        try channel.syncOptions?.setOption(.tcpOption(.tcp_nodelay), value: 1)
                    } catch {
                        logger.warning("TCP_NODELAY could not be set on an accepted connection; it is served without",
                                       metadata: ["peer": "\(channel.remoteAddress.map(String.init(describing:)) ?? "?")", "error": "\(error)"])
                    }
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                    }
                    let handler = HTTP2ConnectionHandler(
                        role: .server(makeDelegate: makeDelegate), configuration: configuration, statistics: statistics)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    connections.add(channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
                }
            }
            .bind(host: host, port: port)
            .get()
        return HTTP2Server(channel: channel, configuration: configuration, statistics: statistics, connections: connections)
    }

    private init(channel: any Channel, configuration: HTTP2ConnectionConfiguration,
                 statistics: StatisticsBox, connections: ConnectionRegistry) {
        self.serverChannel = channel
        self.localAddress = channel.localAddress!
        self.configuration = configuration
        self.statisticsBox = statistics
        self.connections = connections
    }

    /// Stops accepting, sends GOAWAY NO_ERROR on every connection so peers open no new
    /// streams, lets started streams finish within `gracefulShutdownTimeout`, then closes.
    public func shutdown() async {
        let open = connections.all
        beginShutdown()
        for (channel, _) in open {
            try? await channel.closeFuture.get()
        }
    }

    /// Stops accepting connections and sends every open one GOAWAY.
    public func beginShutdown() {
        serverChannel.close(promise: nil)
        for (channel, handler) in connections.all {
            channel.eventLoop.execute { handler.value.beginGracefulShutdown(reason: "server shutting down") }
        }
    }

    /// Closes every connection now (streams still open are reset) and waits until they are.
    public func closeAll() async {
        let open = connections.all
        for (channel, _) in open { channel.close(promise: nil) }
        for (channel, _) in open { try? await channel.closeFuture.get() }
    }
}

/// The open connections of one server, for graceful shutdown.
final class ConnectionRegistry: Sendable {
    private let channels = Mutex<[ObjectIdentifier: (any Channel, NIOLoopBound<HTTP2ConnectionHandler>)]>([:])

    func add(_ channel: any Channel, handler: NIOLoopBound<HTTP2ConnectionHandler>) {
        let key = ObjectIdentifier(channel)
        channels.withLock { $0[key] = (channel, handler) }
        channel.closeFuture.whenComplete { _ in
            _ = self.channels.withLock { $0.removeValue(forKey: key) }
        }
    }

    var all: [(any Channel, NIOLoopBound<HTTP2ConnectionHandler>)] {
        channels.withLock { Array($0.values) }
    }
}
