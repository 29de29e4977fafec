import PeriscopeHTTP2
import SwiftProtobuf

/// One method of a service, typed by its messages: `/package.Service/Method` on the wire.
public struct RPCMethod<Request: SwiftProtobuf.Message & Sendable, Response: SwiftProtobuf.Message & Sendable>: Sendable {
    public let service: String
    public let name: String

    public init(service: String, name: String) {
        self.service = service
        self.name = name
    }

    public var path: String { "/\(service)/\(name)" }
}

/// What a handler knows about its call besides the request.
public struct RPCContext: Sendable {
    public let path: String
    /// The request's headers (gRPC metadata), pseudo-headers included.
    public let headers: HTTP2Headers
    /// When the caller stops waiting (from `grpc-timeout`); the handler's task is cancelled then.
    public let deadline: ContinuousClock.Instant?
}
