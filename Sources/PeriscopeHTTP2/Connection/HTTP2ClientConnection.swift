import NIOCore
import NIOPosix
import NIOSSL

/// One client HTTP/2 connection: many concurrent streams over one socket. Streams beyond
/// the server's SETTINGS_MAX_CONCURRENT_STREAMS wait in nghttp2 until earlier ones finish.
public final class HTTP2ClientConnection: Sendable {
    public let channel: any Channel
    private let handler: NIOLoopBound<HTTP2ConnectionHandler>
    private let goAway: GoAwayFlag
    /// When the server last sent anything on this connection.
    public let activity: PeerActivity

    public static func connect(
        host: String,
        port: Int,
        configuration: HTTP2ConnectionConfiguration = .init(),
        tls: HTTP2TLS.Client? = nil,
        group: any EventLoopGroup,
        connectTimeout: TimeAmount = .seconds(10),
        localHost: String? = nil
    ) async throws -> HTTP2ClientConnection {
        try configuration.settings.validate()
        let sslContext = try tls?.makeContext()
        let serverHostname = tls?.serverHostname ?? host
        let activity = PeerActivity()
        var bootstrap = ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
        if let localHost {
            // Leave from this address (a node's own), so that rules on (source, destination)
            // address pairs between nodes apply to its connections.
            bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: localHost, port: 0))
        }
        let channel = try await bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        let isAddress = (try? SocketAddress(ipAddress: serverHostname, port: 0)) != nil
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: sslContext, serverHostname: isAddress ? nil : serverHostname))
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        HTTP2ConnectionHandler(role: .client, configuration: configuration, statistics: nil, activity: activity))
                }
            }
            .connect(host: host, port: port)
            .get()
        let (handler, goAway) = try await channel.eventLoop.submit {
            let handler = try channel.pipeline.syncOperations.handler(type: HTTP2ConnectionHandler.self)
            return (NIOLoopBound(handler, eventLoop: channel.eventLoop), handler.peerWentAway)
        }.get()
        return HTTP2ClientConnection(channel: channel, handler: handler, goAway: goAway, activity: activity)
    }

    private init(channel: any Channel, handler: NIOLoopBound<HTTP2ConnectionHandler>, goAway: GoAwayFlag, activity: PeerActivity) {
        self.channel = channel
        self.handler = handler
        self.goAway = goAway
        self.activity = activity
    }

    /// Opens a stream with `headers` (`:method`, `:scheme`, `:authority`, `:path` first).
    /// Without `endStream`, body bytes follow through `HTTP2Stream.write`.
    public func openStream(
        _ headers: HTTP2Headers,
        endStream: Bool,
        delegate: sending any HTTP2StreamDelegate
    ) async throws -> HTTP2Stream {
        let transfer = UncheckedTransfer(delegate)
        let handler = self.handler
        return try await channel.eventLoop.submit {
            try handler.value.openStream(headers, endStream: endStream, delegate: transfer.value)
        }.get()
    }

    /// Sends PING and returns the round-trip time.
    public func ping() async throws -> TimeAmount {
        let handler = self.handler
        let promise = channel.eventLoop.makePromise(of: TimeAmount.self)
        channel.eventLoop.execute { handler.value.ping(promise: promise) }
        return try await promise.futureResult.get()
    }

    /// GOAWAY, let open streams finish, close.
    public func close() async {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.beginGracefulShutdown(reason: "client closing") }
        try? await channel.closeFuture.get()
    }

    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    /// Whether the connection is still up (it may still be draining after a GOAWAY).
    public var isOpen: Bool { channel.isActive }

    /// Whether new calls may start here: up, and the server has not sent GOAWAY (after one
    /// it refuses every new stream while the old ones drain; callers should reconnect).
    public var acceptsNewStreams: Bool { channel.isActive && !goAway.isSet }
}

/// Moves a value that is not Sendable to the event loop that will own it from then on.
struct UncheckedTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
