import NIOCore
import Synchronization

/// The NIO shell around an `NGHTTP2Session`: bytes read from the socket go to `mem_recv`
/// once per read, the events it produces go to streams' delegates, and everything nghttp2
/// has to send is drained with `mem_send` once per event-loop turn and written with one flush.
/// All state lives on the channel's event loop.
final class HTTP2ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Role {
        /// Makes the delegate of each stream a peer opens; the delegate then receives the
        /// request head like every later part.
        case server(makeDelegate: (HTTP2Stream) -> any HTTP2StreamDelegate)
        case client
    }

    let role: Role
    let configuration: HTTP2ConnectionConfiguration
    let statistics: StatisticsBox?
    /// When the peer last sent anything (client connections).
    private let activity: PeerActivity?
    // Confined to the event loop and touched on every frame: no dynamic exclusivity checks.
    @exclusivity(unchecked) private var session: NGHTTP2Session?
    @exclusivity(unchecked) private var context: ChannelHandlerContext?
    @exclusivity(unchecked) private(set) var streams: [Int32: HTTP2Stream] = [:]
    private var streamsWaitingForWritability: Set<Int32> = []

    @exclusivity(unchecked) private var isReading = false
    @exclusivity(unchecked) private var isFlushScheduled = false
    /// No new streams (we sent or are sending GOAWAY); streams already open still run.
    private var isClosing = false
    /// A fatal error: GOAWAY is on its way and nothing more is read.
    private var isFailed = false
    /// Why the connection ended, reported to streams still open when it goes.
    private var closeReason: HTTP2Error?
    private(set) var receivedGoAway: (lastStreamID: Int32, code: HTTP2ErrorCode)?
    /// Set once the peer sent GOAWAY: readable from any thread, so a connection pool stops
    /// handing out a connection that will refuse every new stream.
    let peerWentAway = GoAwayFlag()

    private var keepaliveTask: RepeatedTask?
    private var pingSentAt: NIODeadline?
    private var pingTimeoutTask: Scheduled<Void>?
    private var pingWaiters: [EventLoopPromise<TimeAmount>] = []
    @exclusivity(unchecked) private var idleSince: NIODeadline = .now()
    private var forcedCloseTask: Scheduled<Void>?

    init(role: Role, configuration: HTTP2ConnectionConfiguration, statistics: StatisticsBox?, activity: PeerActivity? = nil) {
        self.role = role
        self.configuration = configuration
        self.statistics = statistics
        self.activity = activity
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let sessionRole: NGHTTP2Session.Role
        switch role {
        case .server: sessionRole = .server
        case .client: sessionRole = .client
        }
        do {
            session = try NGHTTP2Session(role: sessionRole, settings: configuration.settings,
                                         allocator: context.channel.allocator)
        } catch {
            closeReason = error
            context.close(promise: nil)
            return
        }
        if context.channel.isActive { start(context: context) }
    }

    /// Also runs when a channel closes without ever having been active (a failed connect), so
    /// the handler ⇄ context reference ends here in every case.
    func handlerRemoved(context: ChannelHandlerContext) {
        keepaliveTask?.cancel()
        forcedCloseTask?.cancel()
        pingTimeoutTask?.cancel()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard keepaliveTask == nil, session != nil else { return }
        statistics?.connectionOpened()
        idleSince = .now()
        let interval = configuration.keepaliveInterval ?? configuration.idleTimeout ?? .seconds(60)
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        keepaliveTask = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            loopBound.value.checkTimers()
        }
        flushNow()  // server: our SETTINGS; client: the preface and SETTINGS
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let session, !isFailed else { return }
        activity?.recordRead()
        isReading = true
        let bytes = unwrapInboundIn(data)
        do {
            let events = try session.receive(bytes)
            for event in events { handle(event) }
        } catch {
            fail(error)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        isReading = false
        flushNow()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { flushNow() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if closeReason == nil {
            closeReason = .connectionClosed(detail: "\(error)")
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        keepaliveTask?.cancel()
        forcedCloseTask?.cancel()
        pingTimeoutTask?.cancel()
        let reason = closeReason ?? .connectionClosed(detail: "the peer closed the connection")
        for stream in streams.values { finish(stream, error: reason) }
        streams.removeAll()
        for waiter in pingWaiters { waiter.fail(reason) }
        pingWaiters.removeAll()
        statistics?.connectionClosed()
        self.context = nil
        context.fireChannelInactive()
    }

    // MARK: Session events

    private func handle(_ event: SessionEvent) {
        switch event {
        case .headers(let streamID, let headers, let endStream):
            guard let stream = streams[streamID] ?? openPeerStream(streamID) else { return }
            stream.delegate?.receive(.headers(headers, endStream: endStream), on: stream)
        case .headerListTooLarge(let streamID, let bytes):
            refuseOversizedHeaders(streamID: streamID, bytes: bytes)
        case .data(let streamID, let bytes, let endStream):
            guard let stream = streams[streamID], let delegate = stream.delegate else {
                try? session?.consume(streamID: streamID, bytes: bytes.readableBytes)
                return
            }
            stream.unconsumedInboundBytes += bytes.readableBytes
            delegate.receive(.data(bytes, endStream: endStream), on: stream)
        case .streamClosed(let streamID, let code):
            guard let stream = streams.removeValue(forKey: streamID) else { return }
            finish(stream, error: code == .noError ? nil : .streamReset(code))
        case .goAway(let lastStreamID, let code):
            receivedGoAway = (lastStreamID, code)
            peerWentAway.set()
        case .pingAcknowledged:
            guard let sentAt = pingSentAt else { return }
            pingSentAt = nil
            pingTimeoutTask?.cancel()
            pingTimeoutTask = nil
            let roundTrip = NIODeadline.now() - sentAt
            for waiter in pingWaiters { waiter.succeed(roundTrip) }
            pingWaiters.removeAll()
        }
    }

    private func openPeerStream(_ streamID: Int32) -> HTTP2Stream? {
        guard case .server(let makeDelegate) = role, let context else { return nil }
        let stream = HTTP2Stream(id: streamID, eventLoop: context.eventLoop, connection: self)
        streams[streamID] = stream
        statistics?.streamOpened()
        stream.delegate = makeDelegate(stream)
        return stream
    }

    /// RFC 9113 §10.5.1: answer 431 and end the stream; the fields were never stored.
    private func refuseOversizedHeaders(streamID: Int32, bytes: Int) {
        let limit = configuration.settings.maxHeaderListBytes
        if let stream = streams[streamID] {
            reset(stream, .protocolError)  // oversized trailers or response head
            return
        }
        guard case .server = role else { return }
        let headers: HTTP2Headers = [":status": "431", "content-type": "text/plain"]
        do {
            try session?.submitResponse(streamID: streamID, headers, endStream: false)
            let body = "header list of \(bytes) bytes exceeds SETTINGS_MAX_HEADER_LIST_SIZE (\(limit) bytes)\n"
            try session?.write(streamID: streamID, context!.channel.allocator.buffer(string: body), endStream: true)
        } catch {
            try? session?.resetStream(streamID: streamID, .internalError)
        }
    }

    private func finish(_ stream: HTTP2Stream, error: HTTP2Error?) {
        stream.isClosed = true
        if stream.unconsumedInboundBytes > 0 {
            // The stream is gone, so this returns the bytes to the connection window only.
            try? session?.consume(streamID: stream.id, bytes: stream.unconsumedInboundBytes)
            stream.unconsumedInboundBytes = 0
        }
        let waiters = stream.writabilityWaiters
        stream.writabilityWaiters.removeAll()
        streamsWaitingForWritability.remove(stream.id)
        for waiter in waiters { waiter.fail(error ?? .streamAlreadyFinished(streamID: stream.id)) }
        if case .server = role { statistics?.streamClosed() }
        if streams.isEmpty { idleSince = .now() }
        stream.delegate?.streamClosed(stream, error: error)
        stream.delegate = nil  // breaks the stream ⇄ delegate cycle
    }

    // MARK: Stream operations (called by HTTP2Stream on the event loop)

    func sendHeaders(_ headers: HTTP2Headers, endStream: Bool, on stream: HTTP2Stream) {
        guard let session else { return }
        do {
            switch role {
            case .server: try session.submitResponse(streamID: stream.id, headers, endStream: endStream)
            case .client: try session.submitTrailers(streamID: stream.id, headers)
            }
            scheduleFlush()
        } catch {
            failStream(stream, error)
        }
    }

    func write(_ buffer: ByteBuffer, endStream: Bool, on stream: HTTP2Stream, promise: EventLoopPromise<Void>) {
        guard let session else { return promise.fail(HTTP2Error.connectionClosed(detail: "no session")) }
        do {
            let buffered = try session.write(streamID: stream.id, buffer, endStream: endStream)
            if buffered <= configuration.settings.outboundStreamBufferedBytesMax {
                promise.succeed()
            } else {
                stream.writabilityWaiters.append(promise)
                streamsWaitingForWritability.insert(stream.id)
            }
            scheduleFlush()
        } catch {
            promise.fail(error)
        }
    }

    func respond(_ headers: HTTP2Headers, body: ByteBuffer, trailers: HTTP2Headers?, on stream: HTTP2Stream) {
        guard let session else { return }
        do {
            try session.submitCompleteResponse(streamID: stream.id, headers, body: body, trailers: trailers)
            scheduleFlush()
        } catch {
            failStream(stream, error)
        }
    }

    func sendTrailers(_ trailers: HTTP2Headers, on stream: HTTP2Stream) {
        do {
            try session?.submitTrailers(streamID: stream.id, trailers)
            scheduleFlush()
        } catch {
            failStream(stream, error)
        }
    }

    func reset(_ stream: HTTP2Stream, _ code: HTTP2ErrorCode) {
        try? session?.resetStream(streamID: stream.id, code)
        scheduleFlush()
    }

    func consumed(_ bytes: Int, on stream: HTTP2Stream) {
        let released = min(bytes, stream.unconsumedInboundBytes)
        guard released > 0 else { return }
        stream.unconsumedInboundBytes -= released
        try? session?.consume(streamID: stream.id, bytes: released)
        scheduleFlush()
    }

    private func failStream(_ stream: HTTP2Stream, _ error: HTTP2Error) {
        try? session?.resetStream(streamID: stream.id, .internalError)
        scheduleFlush()
    }

    // MARK: Client operations

    func openStream(_ headers: HTTP2Headers, endStream: Bool, delegate: any HTTP2StreamDelegate) throws(HTTP2Error) -> HTTP2Stream {
        guard let session, let context, !isClosing else {
            throw closeReason ?? .connectionClosed(detail: "the connection is closing")
        }
        if let goAway = receivedGoAway {
            throw HTTP2Error.goAway(goAway.code, lastStreamID: goAway.lastStreamID)
        }
        let streamID = try session.submitRequest(headers, endStream: endStream)
        let stream = HTTP2Stream(id: streamID, eventLoop: context.eventLoop, connection: self)
        stream.delegate = delegate
        streams[streamID] = stream
        scheduleFlush()
        return stream
    }

    func ping(promise: EventLoopPromise<TimeAmount>) {
        guard context != nil, !isFailed else {
            return promise.fail(closeReason ?? .connectionClosed(detail: "the connection is closed"))
        }
        pingWaiters.append(promise)
        sendPingIfNone()
    }

    // MARK: Flushing

    /// Arranges one drain-and-flush for this event-loop turn. While a read is being processed
    /// `channelReadComplete` does it; otherwise a task queued behind the current one does.
    func scheduleFlush() {
        guard !isReading, !isFlushScheduled, let context else { return }
        isFlushScheduled = true
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            loopBound.value.isFlushScheduled = false
            loopBound.value.flushNow()
        }
    }

    private func flushNow() {
        guard let context, let session else { return }
        // A peer that does not read would make NIO buffer without bound; wait for writability.
        guard context.channel.isWritable else { return }
        var output = context.channel.allocator.buffer(capacity: 0)
        do {
            try session.drainOutbound(into: &output)
        } catch {
            closeReason = closeReason ?? error
            context.close(promise: nil)
            return
        }
        releaseWritabilityWaiters()
        let written = output.readableBytes > 0 ? context.writeAndFlush(wrapOutboundOut(output)) : nil
        // Streams that closed because their last frame went out: tell their delegates now,
        // not at the next read (which on a quiet connection may be a keepalive away).
        let closedWhileSending = session.takeEvents()
        for event in closedWhileSending { handle(event) }
        if !session.wantsRead && !session.wantsWrite {
            if let written { closeAfter(written, context: context) } else { context.close(promise: nil) }
        } else if !closedWhileSending.isEmpty {
            scheduleFlush()  // delegates may have submitted more
        }
    }

    private func releaseWritabilityWaiters() {
        guard let session, !streamsWaitingForWritability.isEmpty else { return }
        let limit = configuration.settings.outboundStreamBufferedBytesMax
        for streamID in streamsWaitingForWritability {
            guard let stream = streams[streamID] else { continue }
            if session.bufferedOutboundBytes(streamID: streamID) <= limit {
                let waiters = stream.writabilityWaiters
                stream.writabilityWaiters.removeAll()
                streamsWaitingForWritability.remove(streamID)
                for waiter in waiters { waiter.succeed() }
            }
        }
    }

    // MARK: Failure, keepalive and shutdown

    /// A fatal protocol error: the session has queued GOAWAY; send it, then close.
    private func fail(_ error: HTTP2Error) {
        closeReason = error
        isClosing = true
        isFailed = true
        if case .protocolViolation = error { statistics?.protocolErrorClosed() }
        guard let context, let session else { return }
        var output = context.channel.allocator.buffer(capacity: 0)
        try? session.drainOutbound(into: &output)
        closeAfter(context.writeAndFlush(wrapOutboundOut(output)), context: context)
    }

    /// Closes once `write` is on the wire (or failed): a GOAWAY must not be dropped by close.
    private func closeAfter(_ write: EventLoopFuture<Void>, context: ChannelHandlerContext) {
        let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        write.whenComplete { _ in boundContext.value.close(promise: nil) }
    }

    private func checkTimers() {
        let now = NIODeadline.now()
        if let idleTimeout = configuration.idleTimeout, streams.isEmpty, now - idleSince > idleTimeout {
            beginGracefulShutdown(reason: "idle for \(idleTimeout)")
            return
        }
        if configuration.keepaliveInterval != nil { sendPingIfNone() }
    }

    private func pingTimedOut(sentAt: NIODeadline) {
        guard pingSentAt == sentAt, let context else { return }
        closeReason = .timedOut("no PING acknowledgement within \(configuration.keepaliveTimeout); the peer is gone")
        statistics?.keepaliveTimedOut()
        context.close(promise: nil)
    }

    private func sendPingIfNone() {
        guard pingSentAt == nil, let session else { return }
        let now = NIODeadline.now()
        do {
            try session.submitPing(payload: now.uptimeNanoseconds)
            pingSentAt = now
            scheduleFlush()
            // Timed from this PING, not from the next keepalive tick: a vanished peer is
            // noticed keepaliveTimeout after we asked, whatever the interval.
            if let context {
                let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
                pingTimeoutTask = context.eventLoop.scheduleTask(in: configuration.keepaliveTimeout) {
                    loopBound.value.pingTimedOut(sentAt: now)
                }
            }
        } catch {
            for waiter in pingWaiters { waiter.fail(error) }
            pingWaiters.removeAll()
        }
    }

    /// GOAWAY NO_ERROR naming the last stream we accepted: the peer opens no more, streams
    /// already started finish, and the connection closes when the last one does (or at the
    /// graceful-shutdown deadline).
    func beginGracefulShutdown(reason: String) {
        guard !isClosing, let session, let context else { return }
        isClosing = true
        closeReason = .goAway(.noError, lastStreamID: session.lastProcessedStreamID)
        try? session.submitGoAway(.noError, debugData: reason)
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        forcedCloseTask = context.eventLoop.scheduleTask(in: configuration.gracefulShutdownTimeout) {
            loopBound.value.context?.close(promise: nil)
        }
        flushNow()
    }
}

/// Server statistics shared by the connections of one server: atomics, since every stream
/// open and close updates them.
/// Whether a connection's peer sent GOAWAY, for other threads.
final class GoAwayFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

final class StatisticsBox: Sendable {
    private let openConnections = Atomic<Int>(0)
    private let openStreams = Atomic<Int>(0)
    private let acceptedConnections = Atomic<Int>(0)
    private let acceptedStreams = Atomic<Int>(0)
    private let connectionsFailedByProtocolError = Atomic<Int>(0)
    private let connectionsTimedOut = Atomic<Int>(0)

    func connectionOpened() {
        openConnections.add(1, ordering: .relaxed)
        acceptedConnections.add(1, ordering: .relaxed)
    }
    func connectionClosed() { openConnections.subtract(1, ordering: .relaxed) }
    func streamOpened() {
        openStreams.add(1, ordering: .relaxed)
        acceptedStreams.add(1, ordering: .relaxed)
    }
    func streamClosed() { openStreams.subtract(1, ordering: .relaxed) }
    func protocolErrorClosed() { connectionsFailedByProtocolError.add(1, ordering: .relaxed) }
    func keepaliveTimedOut() { connectionsTimedOut.add(1, ordering: .relaxed) }

    var current: HTTP2ServerStatistics {
        var statistics = HTTP2ServerStatistics()
        statistics.openConnections = openConnections.load(ordering: .relaxed)
        statistics.openStreams = openStreams.load(ordering: .relaxed)
        statistics.acceptedConnections = acceptedConnections.load(ordering: .relaxed)
        statistics.acceptedStreams = acceptedStreams.load(ordering: .relaxed)
        statistics.connectionsFailedByProtocolError = connectionsFailedByProtocolError.load(ordering: .relaxed)
        statistics.connectionsTimedOut = connectionsTimedOut.load(ordering: .relaxed)
        return statistics
    }
}
