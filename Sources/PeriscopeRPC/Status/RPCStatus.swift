/// A gRPC status: the outcome of every call, and the error type calls throw.
public struct RPCStatus: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: Int, Sendable, CaseIterable {
        case ok = 0, cancelled, unknown, invalidArgument, deadlineExceeded, notFound, alreadyExists,
             permissionDenied, resourceExhausted, failedPrecondition, aborted, outOfRange,
             unimplemented, internalError, unavailable, dataLoss, unauthenticated

        /// The canonical upper-case name (`INVALID_ARGUMENT`), as JSON error bodies carry it.
        public var name: String {
            switch self {
            case .ok: "OK"
            case .cancelled: "CANCELLED"
            case .unknown: "UNKNOWN"
            case .invalidArgument: "INVALID_ARGUMENT"
            case .deadlineExceeded: "DEADLINE_EXCEEDED"
            case .notFound: "NOT_FOUND"
            case .alreadyExists: "ALREADY_EXISTS"
            case .permissionDenied: "PERMISSION_DENIED"
            case .resourceExhausted: "RESOURCE_EXHAUSTED"
            case .failedPrecondition: "FAILED_PRECONDITION"
            case .aborted: "ABORTED"
            case .outOfRange: "OUT_OF_RANGE"
            case .unimplemented: "UNIMPLEMENTED"
            case .internalError: "INTERNAL"
            case .unavailable: "UNAVAILABLE"
            case .dataLoss: "DATA_LOSS"
            case .unauthenticated: "UNAUTHENTICATED"
            }
        }

        /// The HTTP status a JSON caller gets (the mapping grpc-gateway uses).
        public var httpStatus: Int {
            switch self {
            case .ok: 200
            case .cancelled: 499
            case .unknown, .internalError, .dataLoss: 500
            case .invalidArgument, .failedPrecondition, .outOfRange: 400
            case .deadlineExceeded: 504
            case .notFound: 404
            case .alreadyExists, .aborted: 409
            case .permissionDenied: 403
            case .resourceExhausted: 429
            case .unimplemented: 501
            case .unavailable: 503
            case .unauthenticated: 401
            }
        }

        /// gRPC's mapping for responses that are not gRPC (doc/http-grpc-status-mapping.md).
        public static func fromHTTPStatus(_ status: Int) -> Code {
            switch status {
            case 400: .internalError
            case 401: .unauthenticated
            case 403: .permissionDenied
            case 404: .unimplemented
            case 429, 502, 503, 504: .unavailable
            default: .unknown
            }
        }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String = "") {
        self.code = code
        self.message = message
    }

    public static let ok = RPCStatus(.ok)

    public var description: String {
        message.isEmpty ? code.name : "\(code.name): \(message)"
    }
}

/// Errors that know which gRPC status they are. Domain errors of other modules conform, so a
/// handler can throw them and the caller still gets the right code and a useful message.
public protocol RPCStatusConvertible: Error {
    var rpcStatus: RPCStatus { get }
}

extension RPCStatus: RPCStatusConvertible {
    public var rpcStatus: RPCStatus { self }
}
