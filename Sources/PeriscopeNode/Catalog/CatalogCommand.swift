import Foundation

/// A change to the namespace catalog, as proposed to its Raft group. Checked against the
/// catalog when applied (every replica reaches the same verdict, since it applies the same
/// commands in the same order), so a proposer never needs a lock on the catalog.
///
/// Every change but `forceFailover` and `replicate` is made by the namespace's home region
/// (the node forwards it there) and increments the namespace's metadata version; other
/// regions take the result with `replicate`, which applies only a newer version.
enum CatalogCommand: Codable, Sendable, Equatable {
    case create(NamespaceEntry)
    case setRetention(name: String, seconds: Int64)
    case addAttributes(name: String, attributes: [String: Int])
    case removeAttributes(name: String, names: [String])
    case setRegions(name: String, regions: [String])
    /// A planned failover starts: writes are refused until `completeHandover`.
    case beginHandover(name: String, to: String)
    /// The new home has everything the old one accepted: it becomes the home, under a
    /// failover version it issues.
    case completeHandover(name: String, failoverVersion: Int64)
    case cancelHandover(name: String)
    /// Proposed in the region taking over a namespace whose home is down.
    case forceFailover(name: String, to: String, failoverVersion: Int64)
    /// Marks the namespace as a migration's target, or finishes the import: imports from then
    /// on are stamped at most `ceiling`, and the failover version rises to `failoverVersion`
    /// (above every imported order) if that is higher.
    case setImporting(name: String, importing: Bool, failoverVersion: Int64?, ceiling: Int64?)
    /// Another region's copy of a namespace: taken if it is newer than this one's.
    case replicate(NamespaceEntry)

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
        /// The region is not in a state that allows it (another membership change under way),
        /// or the namespace's changes are made in another region.
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
