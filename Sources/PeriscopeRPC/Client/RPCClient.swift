import NIOCore
import NIOPosix
import PeriscopeHTTP2
import SwiftProtobuf

/// Calls methods on one server over one HTTP/2 connection, any number concurrently.
public final class RPCClient: Sendable {
    public let connection: HTTP2ClientConnection
    private let authority: String
    private let maxReceiveMessageBytes: Int

    public init(connection: HTTP2ClientConnection, authority: String, maxReceiveMessageBytes: Int = 16 << 20) {
        self.connection = connection
        self.authority = authority
        self.maxReceiveMessageBytes = maxReceiveMessageBytes
    }

    /// `localHost`: the IP address the connection leaves from (nil: the system's choice).
    public static func connect(host: String, port: Int, tls: HTTP2TLS.Client? = nil,
                               configuration: HTTP2ConnectionConfiguration = .init(),
                               group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                               localHost: String? = nil) async throws -> RPCClient {
        let connection = try await HTTP2ClientConnection.connect(host: host, port: port, configuration: configuration,
                                                                 tls: tls, group: group, localHost: localHost)
        return RPCClient(connection: connection, authority: "\(host):\(port)")
    }

    public func close() async { await connection.close() }

    /// One request, one response. Throws `RPCStatus` for every failure, local or remote.
    public func unary<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ request: Request,
        timeout: Duration? = nil,
        metadata: [(String, String)] = []
    ) async throws(RPCStatus) -> Response {
        try await bidirectionalStreaming(method, timeout: timeout, metadata: metadata) { requests, responses in
            var iterator = responses.makeAsyncIterator()
            do {
                // One DATA frame that also ends the stream: a server may answer (and close the
                // stream) as soon as the message is in, before a separate end would arrive.
                try await requests.sendLast(request)
            } catch {
                // A server that answers before reading the request (unknown method, bad
                // metadata) may reset the stream under our write: its status says why.
                _ = try await iterator.next()
                throw error
            }
            guard let response = try await iterator.next() else {
                throw RPCStatus(.internalError, "\(method.path) returned OK without a response message")
            }
            guard try await iterator.next() == nil else {
                throw RPCStatus(.internalError, "\(method.path) returned more than one response message")
            }
            return response
        }
    }

    /// Opens a call, gives `body` a writer for requests and the sequence of responses, and
    /// returns what `body` returns. The call is cancelled if `body` throws or the deadline
    /// passes; if `body` returns before the call has ended, the stream is reset (CANCEL).
    public func bidirectionalStreaming<Request, Response, Result: Sendable>(
        _ method: RPCMethod<Request, Response>,
        timeout: Duration? = nil,
        metadata: [(String, String)] = [],
        _ body: (RPCCallWriter<Request>, RPCResponseSequence<Response>) async throws -> Result
    ) async throws(RPCStatus) -> Result {
        var headers: HTTP2Headers = [":method": "POST", ":scheme": "http", ":authority": authority,
                                     ":path": method.path, "content-type": "application/grpc", "te": "trailers"]
        if let timeout { headers.add("grpc-timeout", GRPCTimeout.format(timeout)) }
        for (name, value) in metadata { headers.add(name.lowercased(), value) }

        let (messages, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let call = RPCClientCall(maxMessageBytes: maxReceiveMessageBytes, messages: continuation)
        let stream: HTTP2Stream
        do {
            stream = try await connection.openStream(headers, endStream: false, delegate: call)
        } catch {
            throw RPCStatus(error)
        }
        stream.eventLoop.execute { call.attach(stream) }
        let deadlineTask = timeout.map { timeout in
            Task {
                try await Task.sleep(for: timeout)
                stream.eventLoop.execute { call.cancel(RPCStatus(.deadlineExceeded, "no answer within \(timeout)")) }
            }
        }
        defer { deadlineTask?.cancel() }
        do {
            let responses = RPCResponseSequence<Response>(messages: messages, taken: { count in
                stream.eventLoop.execute { call.taken(count) }
            })
            let result = try await body(RPCCallWriter(stream: stream), responses)
            // A stream both sides have ended is closed and this does nothing; one the caller
            // walked away from is released on both ends.
            stream.reset(.cancel)
            return result
        } catch {
            stream.eventLoop.execute { call.cancel(RPCStatus(.cancelled, "the caller abandoned the call")) }
            throw RPCStatus(error)
        }
    }
}

/// Sends the requests of a call; `finish` ends the client's side.
public struct RPCCallWriter<Message: SwiftProtobuf.Message & Sendable>: Sendable {
    let stream: HTTP2Stream

    public func send(_ message: Message) async throws { try await write(message, endStream: false) }

    /// Sends the call's last message and ends the client's side with it.
    public func sendLast(_ message: Message) async throws { try await write(message, endStream: true) }

    private func write(_ message: Message, endStream: Bool) async throws {
        let bytes = try MessageCodec.protobuf.encode(message, allocator: ByteBufferAllocator())
        do {
            try await stream.write(bytes, endStream: endStream).get()
        } catch {
            throw RPCStatus(error)
        }
    }

    public func finish() async throws {
        do {
            try await stream.write(ByteBuffer(), endStream: true).get()
        } catch {
            throw RPCStatus(error)
        }
    }
}

/// The responses of a call, decoded, in order; throws the call's status if it is not OK.
public struct RPCResponseSequence<Message: SwiftProtobuf.Message & Sendable>: AsyncSequence, Sendable {
    public typealias Element = Message
    let messages: AsyncThrowingStream<ByteBuffer, any Error>
    let taken: @Sendable (Int) -> Void

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator
        let taken: @Sendable (Int) -> Void

        public mutating func next() async throws -> Message? {
            do {
                guard let bytes = try await base.next() else { return nil }
                taken(bytes.readableBytes)
                return try MessageCodec.protobuf.decode(Message.self, from: bytes)
            } catch {
                throw RPCStatus(error)
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: messages.makeAsyncIterator(), taken: taken)
    }
}
