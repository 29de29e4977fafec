import NIOCore

/// Settings and timers of one connection, either role.
public struct HTTP2ConnectionConfiguration: Sendable {
    public var settings = HTTP2Settings()
    /// How often an otherwise quiet connection is probed with PING. `nil` disables keepalive.
    public var keepaliveInterval: TimeAmount? = .seconds(30)
    /// A PING not acknowledged within this closes the connection: the peer vanished without
    /// closing its socket (power loss, partition), and its streams must not be held forever.
    public var keepaliveTimeout: TimeAmount = .seconds(10)
    /// A connection with no open stream for this long is closed with GOAWAY NO_ERROR.
    public var idleTimeout: TimeAmount? = .minutes(5)
    /// On graceful shutdown, streams already started get this long to finish.
    public var gracefulShutdownTimeout: TimeAmount = .seconds(10)

    public init() {}
}

/// Counters one server keeps over all its connections; read by tests and metrics.
public struct HTTP2ServerStatistics: Sendable, Equatable {
    public var openConnections = 0
    public var openStreams = 0
    public var acceptedConnections = 0
    public var acceptedStreams = 0
    /// Connections ended because the peer broke the protocol (GOAWAY with an error sent).
    public var connectionsFailedByProtocolError = 0
    /// Connections closed because a keepalive PING went unanswered.
    public var connectionsTimedOut = 0
}
