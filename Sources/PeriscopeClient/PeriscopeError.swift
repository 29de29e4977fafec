import PeriscopeRPC

/// Why a call failed: the server's gRPC status (or the client's own, for a connection that
/// failed or a deadline that passed) as a code a caller can switch on, and its message,
/// which names what was wrong.
public struct PeriscopeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// The request is wrong: a malformed query, a wrong type, a bad token. Fix it.
        case invalidArgument
        /// The namespace, execution or attribute does not exist.
        case notFound
        case alreadyExists
        /// Well-formed but needs more work than one request may do (a broad ORDER BY).
        case failedPrecondition
        /// Too large (a proposal past the Raft limits).
        case resourceExhausted
        /// The node cannot answer now (starting, stopping, no leader); retried by the client.
        case unavailable
        /// The write lost a leadership change; retried by the client.
        case aborted
        case deadlineExceeded
        case cancelled
        case unimplemented
        case `internal`
        case other(Int)
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    init(_ status: RPCStatus) {
        let code: Code = switch status.code {
        case .invalidArgument, .outOfRange: .invalidArgument
        case .notFound: .notFound
        case .alreadyExists: .alreadyExists
        case .failedPrecondition: .failedPrecondition
        case .resourceExhausted: .resourceExhausted
        case .unavailable: .unavailable
        case .aborted: .aborted
        case .deadlineExceeded: .deadlineExceeded
        case .cancelled: .cancelled
        case .unimplemented: .unimplemented
        case .internalError, .dataLoss, .unknown: .internal
        default: .other(status.code.rawValue)
        }
        self.init(code: code, message: status.message)
    }

    /// Whether a retry can succeed where this attempt failed (the request itself was fine).
    public var isTransient: Bool { code == .unavailable || code == .aborted }

    public var description: String { "\(code): \(message)" }
}
