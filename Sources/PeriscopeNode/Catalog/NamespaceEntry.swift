import PeriscopeModel

/// A namespace as the catalog stores it: its name and id (records are keyed by the id, as
/// Temporal writes them), retention, custom search attributes and home region.
public struct NamespaceEntry: Codable, Sendable, Equatable {
    public var name: String
    public var id: String
    /// Closed executions older than this are dropped by retention.
    public var retentionSeconds: Int64
    /// Custom attribute name → `SearchAttributeType` raw value (Temporal's numbers).
    public var customAttributes: [String: Int]
    public var homeRegion: String

    public init(name: String, id: String, retentionSeconds: Int64, customAttributes: [String: Int] = [:], homeRegion: String) {
        self.name = name
        self.id = id
        self.retentionSeconds = retentionSeconds
        self.customAttributes = customAttributes
        self.homeRegion = homeRegion
    }

    /// The schema records and queries of this namespace are checked against.
    public var schema: NamespaceSchema {
        // Entries are only ever stored after `NamespaceSchema` accepted every attribute, so
        // rebuilding the schema cannot fail (a damaged entry would be refused at decode).
        let types = customAttributes.compactMapValues(SearchAttributeType.init(rawValue:))
        return (try? NamespaceSchema(customAttributes: types)) ?? NamespaceSchema()
    }
}

/// Namespace names follow Temporal's rule: a letter or digit, then letters, digits, `.`,
/// `_` and `-`; at most 255 bytes.
enum NamespaceName {
    static let bytesMax = 255

    static func problem(with name: String) -> String? {
        let bytes = Array(name.utf8)
        guard let first = bytes.first else { return "the namespace name is empty" }
        guard bytes.count <= bytesMax else { return "namespace name of \(bytes.count) bytes is longer than \(bytesMax)" }
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard isAlphanumeric(first) else { return "namespace name '\(name)' must start with a letter or digit" }
        guard bytes.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") })
        else { return "namespace name '\(name)' may hold only letters, digits, '.', '_' and '-'" }
        return nil
    }
}
