/// A failure reported by RocksDB or by the storage layer's own checks.
///
/// `message` is RocksDB's own text where RocksDB produced the error, so operators can search
/// for it; `operation` and `path` say what Periscope was doing and where.
public struct StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// Another process, or another open in this process, holds the database's LOCK file.
        case locked
        case notFound
        case corruption
        case notSupported
        case invalidArgument
        case ioError
        case noSpace
        case busy
        case timedOut
        case aborted
        case incomplete
        case shutdownInProgress
        case tryAgain
        /// The database was closed before this call.
        case closed
        /// `close()` was refused because cursors, snapshots or calls are still using it.
        case inUse
        case columnFamilyNotFound
        case columnFamilyDropped
        case columnFamilyExists
        case unknown
    }

    public let code: Code
    public let operation: String
    public let path: String?
    public let message: String

    public init(_ code: Code, operation: String, path: String? = nil, message: String) {
        self.code = code
        self.operation = operation
        self.path = path
        self.message = message
    }

    public var description: String {
        let location = path.map { " on \($0)" } ?? ""
        return "storage \(operation)\(location) failed (\(code.rawValue)): \(message)"
    }
}

extension StorageError {
    /// The one place RocksDB's status strings are classified.
    ///
    /// RocksDB's C API reports only `Status::ToString()`, whose prefix names the status code
    /// ("IO error: ...", "Corruption: ..."); sub-codes such as "No space left" and lock
    /// failures appear in the text.
    static func fromRocksDB(_ message: String, operation: String, path: String?) -> StorageError {
        StorageError(classify(message), operation: operation, path: path, message: message)
    }

    private static let prefixes: [(String, Code)] = [
        ("NotFound", .notFound),
        ("Corruption", .corruption),
        ("Not implemented", .notSupported),
        ("Invalid argument", .invalidArgument),
        ("IO error", .ioError),
        ("Resource busy", .busy),
        ("Operation timed out", .timedOut),
        ("Operation aborted", .aborted),
        ("Result incomplete", .incomplete),
        ("Shutdown in progress", .shutdownInProgress),
        ("Operation failed. Try again.", .tryAgain),
        ("Column family dropped", .columnFamilyDropped),
    ]

    private static func classify(_ message: String) -> Code {
        if isLockFailure(message) { return .locked }
        if message.contains("No space left on device") { return .noSpace }
        if message.hasPrefix("Invalid argument"), message.contains("Column family not found") {
            return .columnFamilyNotFound
        }
        if message.hasPrefix("Invalid argument"), message.contains("Column family already exists") {
            return .columnFamilyExists
        }
        return prefixes.first { message.hasPrefix($0.0) }?.1 ?? .unknown
    }

    /// Cross-process: "While lock file: <dir>/LOCK: Resource temporarily unavailable".
    /// Same process: "lock hold by current process, acquire time ... : <dir>/LOCK: No locks available".
    private static func isLockFailure(_ message: String) -> Bool {
        message.hasPrefix("IO error") && message.contains("/LOCK")
            && (message.contains("lock") || message.contains("Lock"))
    }
}
