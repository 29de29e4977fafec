import NIOCore
import PeriscopeHTTP2

/// Limits of the RPC layer, on top of the HTTP/2 ones.
public struct RPCLimits: Sendable {
    /// Largest request message accepted (RESOURCE_EXHAUSTED beyond); gRPC's default. A
    /// connection holds at most maxConcurrentStreams × this much request data.
    public var maxReceiveMessageBytes = 4 << 20
    /// Request bytes a streaming handler may leave untaken before the client is slowed down.
    public var streamingBufferedBytesMax = 4 << 20
    /// Deadline applied when the client sends no `grpc-timeout`; nil for none.
    public var defaultDeadline: Duration? = nil

    public init() {}
}

/// One call on the server: the `HTTP2StreamDelegate` of a stream a client opened. It checks
/// the head (method, content type, path, timeout), reassembles messages, runs the handler
/// in a task, and writes headers, messages and the status trailers. It lives on the
/// stream's event loop; the handler's task reaches it only through `eventLoop.execute`.
final class RPCServerCall: HTTP2StreamDelegate, @unchecked Sendable {
    private let router: RPCRouter
    private let limits: RPCLimits
    private let allocator = ByteBufferAllocator()

    // Confined to the stream's event loop (the handler task reaches it only through
    // `eventLoop.execute`): no dynamic exclusivity checks on these per-call fields.
    @exclusivity(unchecked) private var stream: HTTP2Stream?
    @exclusivity(unchecked) private var eventLoop: (any EventLoop)?
    @exclusivity(unchecked) private var codec: MessageCodec = .protobuf
    @exclusivity(unchecked) private var handler: RPCHandler?
    @exclusivity(unchecked) private var context: RPCContext?
    @exclusivity(unchecked) private var deframer: MessageDeframer
    @exclusivity(unchecked) private var jsonBody = ByteBuffer()  // stays empty (no allocation) unless JSON arrives
    @exclusivity(unchecked) private var unaryRequest: ByteBuffer?
    @exclusivity(unchecked) private var requests: AsyncThrowingStream<ByteBuffer, any Error>.Continuation?
    @exclusivity(unchecked) private var task: Task<Void, Never>?
    @exclusivity(unchecked) private var deadlineTimer: Scheduled<Void>?

    @exclusivity(unchecked) private var sentHeaders = false
    @exclusivity(unchecked) private var finished = false
    @exclusivity(unchecked) private var requestEnded = false
    /// Returns received bytes to the flow-control window as a streaming handler takes its
    /// messages; nil (return at once) for unary and JSON calls, whose bodies are bounded.
    @exclusivity(unchecked) private var credit: InboundCredit?

    init(router: RPCRouter, limits: RPCLimits) {
        self.router = router
        self.limits = limits
        self.deframer = MessageDeframer(maxMessageBytes: limits.maxReceiveMessageBytes)
    }

    // MARK: Inbound

    func receive(_ part: HTTP2StreamPart, on stream: HTTP2Stream) {
        guard !finished else {
            if case .data(let bytes, _) = part { stream.consumed(bytes.readableBytes) }
            return
        }
        switch part {
        case .headers(let headers, let endStream):
            if self.stream == nil {
                self.stream = stream
                self.eventLoop = stream.eventLoop
                start(headers, on: stream)
            }
            if endStream { endOfRequest() }  // second header block: request trailers
        case .data(var bytes, let endStream):
            account(bytes.readableBytes, on: stream)
            switch codec {
            case .protobuf:
                deframer.append(&bytes)
                drainMessages()
            case .json:
                guard jsonBody.readableBytes + bytes.readableBytes <= limits.maxReceiveMessageBytes else {
                    return fail(RPCStatus(.resourceExhausted,
                                          "JSON body exceeds the limit of \(limits.maxReceiveMessageBytes) bytes"))
                }
                jsonBody.writeBuffer(&bytes)
            }
            if endStream && !finished { endOfRequest() }
        }
    }

    func streamClosed(_ stream: HTTP2Stream, error: HTTP2Error?) {
        deadlineTimer?.cancel()
        if !finished {
            // The client reset the stream or the connection went away: stop the handler.
            finished = true
            task?.cancel()
            requests?.finish(throwing: RPCStatus(.cancelled, "the client cancelled the call (\(error.map { "\($0)" } ?? "stream closed"))"))
        }
        requests = nil
        self.stream = nil
    }

    private func start(_ headers: HTTP2Headers, on stream: HTTP2Stream) {
        if headers.first(":method", is: "GET"),
           let plain = router.plainHandlers[String((headers.path ?? "").prefix { $0 != "?" })] {
            return servePlain(plain, on: stream.eventLoop)
        }
        guard headers.first(":method", is: "POST") else {
            return respondHTTP(405, "gRPC and JSON calls use POST; got \(headers.method ?? "no method")\n", extra: [("allow", "POST")])
        }
        guard let codec = headers.first("content-type", is: "application/grpc") ? .protobuf
                : MessageCodec(contentType: headers.contentType) else {
            return respondHTTP(415, "unsupported content-type '\(headers.contentType ?? "")'; "
                + "use application/grpc (gRPC) or application/json\n")
        }
        self.codec = codec
        let path = headers.path ?? ""
        guard let handler = router.handlers[path] else {
            return fail(RPCStatus(.unimplemented, "unknown method \(path)"))
        }
        if let encoding = headers["grpc-encoding"], encoding != "identity" {
            return fail(RPCStatus(.unimplemented, "grpc-encoding '\(encoding)' is not supported; send identity"))
        }
        var timeout = limits.defaultDeadline
        if let value = headers["grpc-timeout"] {
            guard let parsed = GRPCTimeout.parse(value) else {
                return fail(RPCStatus(.invalidArgument, "malformed grpc-timeout '\(value)': want 1-8 digits and a unit of H, M, S, m, u or n"))
            }
            timeout = parsed
        }
        self.handler = handler
        let deadline = timeout.map { ContinuousClock.now.advanced(by: $0) }
        context = RPCContext(path: path, headers: headers, deadline: deadline)
        if let timeout {
            deadlineTimer = stream.eventLoop.scheduleTask(in: .nanoseconds(GRPCTimeout.nanoseconds(timeout))) { [self] in
                fail(RPCStatus(.deadlineExceeded, "the call's deadline of \(timeout) passed"))
            }
        }
        if case .streaming = handler {
            if codec == .protobuf {
                credit = InboundCredit(buffered: limits.streamingBufferedBytesMax, oneMessage: limits.maxReceiveMessageBytes)
            }
            startStreaming()
        }
    }

    private func account(_ count: Int, on stream: HTTP2Stream) {
        let returnNow = credit?.received(count) ?? count
        if returnNow > 0 { stream.consumed(returnNow) }
    }

    /// The handler took a message of `count` bytes (5 more on the wire).
    private func taken(_ count: Int) {
        guard let repaid = credit?.taken(count + 5), repaid > 0 else { return }
        stream?.consumed(repaid)
    }

    private func drainMessages() {
        do {
            while let message = try deframer.next() {
                if let requests {
                    requests.yield(message)
                } else if unaryRequest == nil {
                    unaryRequest = message
                } else {
                    return fail(RPCStatus(.invalidArgument, "\(context?.path ?? "a unary method") takes one request message; a second arrived"))
                }
            }
        } catch {
            fail(error)
        }
    }

    private func endOfRequest() {
        guard !requestEnded, !finished, let handler, let context else { return }
        requestEnded = true
        switch codec {
        case .protobuf:
            do { try deframer.checkComplete() } catch { return fail(error) }
        case .json:
            splitJSONBody()
        }
        if handler.isStreaming { return requests?.finish() ?? () }
        guard let request = unaryRequest else {
            return fail(RPCStatus(.invalidArgument, "\(context.path) takes one request message; none arrived"))
        }
        // The deadline timer is queued behind this read on the event loop, so a deadline that
        // passed while the request arrived (a zero timeout, a slow upload) is checked here:
        // the handler must not run for a caller that has stopped waiting.
        if let deadline = context.deadline, ContinuousClock.now >= deadline {
            return fail(RPCStatus(.deadlineExceeded, "the call's deadline passed before its request was complete"))
        }
        switch handler {
        case .unary(let run):
            runUnary(run, request: request, context: context)
        case .immediate(let run):
            do {
                respond(with: try run(request, codec, context, allocator))
            } catch {
                fail(RPCStatus(error))
            }
        case .streaming:
            break
        }
    }

    /// JSON calls carry the whole body at once: one object for unary methods, one object per
    /// line for streaming ones. An empty body is the empty message.
    private func splitJSONBody() {
        let text = jsonBody.readableBytesView
        if handler?.isStreaming == true {
            for line in text.split(separator: UInt8(ascii: "\n")) where !line.allSatisfy({ $0 == 32 || $0 == 13 }) {
                requests?.yield(allocator.buffer(bytes: line))
            }
        } else {
            unaryRequest = text.isEmpty ? allocator.buffer(string: "{}") : jsonBody
        }
    }

    // MARK: Handler tasks

    private func runUnary(_ run: @escaping @Sendable (ByteBuffer, MessageCodec, RPCContext, ByteBufferAllocator) async throws -> ByteBuffer,
                          request: ByteBuffer, context: RPCContext) {
        guard let eventLoop = stream?.eventLoop else { return }
        let codec = self.codec, allocator = self.allocator
        task = Task {
            let result: Result<ByteBuffer, RPCStatus>
            do {
                result = .success(try await run(request, codec, context, allocator))
            } catch {
                result = .failure(RPCStatus(error))
            }
            eventLoop.execute { [self] in
                switch result {
                case .success(let response):
                    respond(with: response)
                case .failure(let status):
                    fail(status)
                }
            }
        }
    }

    private func startStreaming() {
        guard case .streaming(let run)? = handler, let context, let eventLoop = stream?.eventLoop else { return }
        let (messages, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        requests = continuation
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let inbound = RPCInbound(messages: messages, taken: { count in
            eventLoop.execute { bound.value.taken(count) }
        })
        let outbound = RPCOutbound(send: { message in
            try await eventLoop.flatSubmit { bound.value.sendMessage(message) }.get()
        })
        let codec = self.codec
        task = Task {
            let status: RPCStatus
            do {
                try await run(inbound, outbound, codec, context)
                status = .ok
            } catch {
                status = RPCStatus(error)
            }
            eventLoop.execute { status.code == .ok ? bound.value.finish(status) : bound.value.fail(status) }
        }
    }

    // MARK: Outbound

    @discardableResult
    private func sendMessage(_ message: ByteBuffer) -> EventLoopFuture<Void> {
        guard !finished, let stream else {
            return eventLoop!.makeFailedFuture(RPCStatus(.cancelled, "the call has ended"))
        }
        sendHeadersIfNeeded(on: stream)
        switch codec {
        case .protobuf:
            return stream.write(message)
        case .json:
            var line = message
            if handler?.isStreaming == true { line.writeString("\n") }
            return stream.write(line)
        }
    }

    /// A unary call's whole answer: head, message and OK status in one submission.
    private func respond(with message: ByteBuffer) {
        guard !finished, !sentHeaders, let stream else { return }
        finished = true
        sentHeaders = true
        deadlineTimer?.cancel()
        switch codec {
        case .protobuf:
            stream.respond(Self.grpcHead, body: message, trailers: Self.okTrailers)
        case .json:
            stream.respond(Self.jsonHead, body: message, trailers: nil)
        }
    }

    private static let grpcHead: HTTP2Headers = [":status": "200", "content-type": "application/grpc"]
    private static let jsonHead: HTTP2Headers = [":status": "200", "content-type": "application/json"]
    private static let okTrailers: HTTP2Headers = ["grpc-status": "0"]

    private func sendHeadersIfNeeded(on stream: HTTP2Stream) {
        guard !sentHeaders else { return }
        sentHeaders = true
        stream.sendHeaders(codec == .protobuf ? Self.grpcHead : Self.jsonHead, endStream: false)
    }

    /// Ends the call with `status` (OK or an error after messages were sent).
    private func finish(_ status: RPCStatus) {
        guard !finished, let stream else { return }
        finished = true
        deadlineTimer?.cancel()
        switch codec {
        case .protobuf:
            sendHeadersIfNeeded(on: stream)
            stream.sendTrailers(Self.statusTrailers(status))
        case .json:
            sendHeadersIfNeeded(on: stream)
            if status.code != .ok {
                stream.write(jsonError(status))
            }
            stream.write(allocator.buffer(capacity: 0), endStream: true)
        }
    }

    /// Ends the call with an error; before any message, as a trailers-only response (gRPC)
    /// or an HTTP error status with a JSON body.
    private func fail(_ status: RPCStatus) {
        guard !finished, let stream else { return }
        task?.cancel()
        requests?.finish(throwing: status)
        if sentHeaders { return finish(status) }
        finished = true
        deadlineTimer?.cancel()
        switch codec {
        case .protobuf:
            var headers: HTTP2Headers = [":status": "200", "content-type": "application/grpc"]
            for field in Self.statusTrailers(status).fields { headers.add(field.name, field.value) }
            if status.code == .unimplemented { headers.add("grpc-accept-encoding", "identity") }
            stream.sendHeaders(headers, endStream: true)
        case .json:
            stream.sendHeaders([":status": "\(status.code.httpStatus)", "content-type": "application/json",
                                "grpc-status": "\(status.code.rawValue)"], endStream: false)
            stream.write(jsonError(status), endStream: true)
        }
    }

    private func respondHTTP(_ status: Int, _ body: String, extra: [(String, String)] = []) {
        respondHTTP(status, allocator.buffer(string: body), contentType: "text/plain; charset=utf-8", extra: extra)
    }

    private func respondHTTP(_ status: Int, _ body: ByteBuffer, contentType: String, extra: [(String, String)] = []) {
        guard let stream else { return }
        finished = true
        var headers: HTTP2Headers = [":status": "\(status)", "content-type": contentType]
        for (name, value) in extra { headers.add(name, value) }
        stream.sendHeaders(headers, endStream: false)
        stream.write(body, endStream: true)
    }

    /// A plain GET: the handler runs in a task; its body is sent whole.
    private func servePlain(_ handler: @escaping @Sendable () async -> RPCPlainResponse, on eventLoop: any EventLoop) {
        task = Task {
            let response = await handler()
            eventLoop.execute { [self] in
                guard !finished else { return }
                respondHTTP(response.status, allocator.buffer(bytes: response.body), contentType: response.contentType)
            }
        }
    }

    private func jsonError(_ status: RPCStatus) -> ByteBuffer {
        let escaped = status.message.unicodeScalars.map { scalar -> String in
            switch scalar {
            case "\"": return "\\\""
            case "\\": return "\\\\"
            case _ where scalar.value < 0x20: return "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4)
            default: return String(scalar)
            }
        }.joined()
        return allocator.buffer(string: "{\"code\":\(status.code.rawValue),\"status\":\"\(status.code.name)\",\"message\":\"\(escaped)\"}\n")
    }

    static func statusTrailers(_ status: RPCStatus) -> HTTP2Headers {
        var trailers: HTTP2Headers = ["grpc-status": "\(status.code.rawValue)"]
        if !status.message.isEmpty { trailers.add("grpc-message", PercentEncoding.encode(status.message)) }
        return trailers
    }
}
