import NIOCore
import Synchronization
import SwiftProtobuf

/// The methods a server answers, by path. Built once before the server starts.
public struct RPCRouter: Sendable {
    var handlers: [String: RPCHandler] = [:]
    var plainHandlers: [String: @Sendable () async -> RPCPlainResponse] = [:]
    /// Unary calls running now (a shutdown waits for them, not for long-lived streams).
    let unaryCalls = UnaryCallCounter()

    public init() {}

    public var paths: [String] { handlers.keys.sorted() }

    /// One request message, one response message.
    public mutating func unary<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ handler: @escaping @Sendable (Request, RPCContext) async throws -> Response
    ) {
        let calls = unaryCalls
        handlers[method.path] = .unary { bytes, codec, context, allocator in
            calls.began()
            defer { calls.ended() }
            let request = try codec.decode(Request.self, from: bytes)
            let response = try await handler(request, context)
            return try codec.encode(response, allocator: allocator)
        }
    }

    /// One request, one response, computed synchronously on the connection's event loop: no
    /// task, no thread hop. Only for handlers that never block and finish in microseconds
    /// (health checks, which must answer even when the task pool is saturated).
    public mutating func unaryOnEventLoop<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ handler: @escaping @Sendable (Request, RPCContext) throws -> Response
    ) {
        handlers[method.path] = .immediate { bytes, codec, context, allocator in
            let request = try codec.decode(Request.self, from: bytes)
            return try codec.encode(try handler(request, context), allocator: allocator)
        }
    }

    /// A plain HTTP GET of `path` (a query string is ignored): metrics, health and
    /// readiness probes that curl or a scraper read without gRPC framing.
    public mutating func get(_ path: String, _ handler: @escaping @Sendable () async -> RPCPlainResponse) {
        plainHandlers[path] = handler
    }

    /// Streams both ways; the handler returns when it has sent its last response.
    public mutating func bidirectionalStreaming<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ handler: @escaping @Sendable (RPCRequestStream<Request>, RPCResponseWriter<Response>, RPCContext) async throws -> Void
    ) {
        handlers[method.path] = .streaming { inbound, outbound, codec, context in
            try await handler(RPCRequestStream(inbound: inbound, codec: codec),
                              RPCResponseWriter(outbound: outbound, codec: codec), context)
        }
    }

    /// One request message, a stream of responses.
    public mutating func serverStreaming<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ handler: @escaping @Sendable (Request, RPCResponseWriter<Response>, RPCContext) async throws -> Void
    ) {
        bidirectionalStreaming(method) { requests, responses, context in
            var iterator = requests.makeAsyncIterator()
            guard let request = try await iterator.next() else {
                throw RPCStatus(.invalidArgument, "\(method.path) expects one request message; none arrived")
            }
            guard try await iterator.next() == nil else {
                throw RPCStatus(.invalidArgument, "\(method.path) expects one request message; more arrived")
            }
            try await handler(request, responses, context)
        }
    }
}

/// A handler with its message types erased to bytes.
enum RPCHandler: Sendable {
    case unary(@Sendable (ByteBuffer, MessageCodec, RPCContext, ByteBufferAllocator) async throws -> ByteBuffer)
    case streaming(@Sendable (RPCInbound, RPCOutbound, MessageCodec, RPCContext) async throws -> Void)
    case immediate(@Sendable (ByteBuffer, MessageCodec, RPCContext, ByteBufferAllocator) throws -> ByteBuffer)

    var isStreaming: Bool {
        if case .streaming = self { return true }
        return false
    }
}

/// The answer to a plain GET.
public struct RPCPlainResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int = 200, contentType: String = "text/plain; charset=utf-8", body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    public init(status: Int = 200, text: String) {
        self.init(status: status, body: Array(text.utf8))
    }
}

/// How many unary calls run now, shared by every copy of a router.
final class UnaryCallCounter: Sendable {
    private let running = Atomic<Int>(0)

    func began() { running.add(1, ordering: .relaxed) }
    func ended() { running.subtract(1, ordering: .relaxed) }
    var count: Int { running.load(ordering: .relaxed) }
}
