import Foundation

/// A change to the namespace catalog, as proposed to its Raft group. Checked against the
/// catalog when applied (every replica reaches the same verdict, since it applies the same
/// commands in the same order), so a proposer never needs a lock on the catalog.
enum CatalogCommand: Codable, Sendable, Equatable {
    case create(NamespaceEntry)
    case setRetention(name: String, seconds: Int64)
    case addAttributes(name: String, attributes: [String: Int])
    case removeAttributes(name: String, names: [String])

    func encoded() -> [UInt8] {
        // JSON: the catalog is small and rarely written; a readable log is worth the bytes.
        Array((try? JSONEncoder().encode(self)) ?? Data())
    }

    static func decode(_ bytes: [UInt8]) throws -> CatalogCommand {
        try JSONDecoder().decode(CatalogCommand.self, from: Data(bytes))
    }
}

/// What applying a catalog command says.
public enum CatalogOutcome: Sendable, Equatable, Codable {
    /// The namespace as it is after the command.
    case done(NamespaceEntry)
    case refused(CatalogRefusal)
}

/// Why the catalog (or the region map) refused a command; `code` maps onto a gRPC status.
public struct CatalogRefusal: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable, Codable {
        case notFound, alreadyExists, invalidArgument
        /// The region is not in a state that allows it (another membership change under way).
        case failedPrecondition
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
