/// Why a query could not be answered. Errors name what was wrong.
public struct ShardQueryError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// The request itself is wrong (page size, cursor from another query).
        case invalidArgument
        /// The query needs more work than one request may do.
        case tooExpensive
        /// The consistency asked for was not reached in time.
        case unavailable
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
