import PeriscopeModel
import PeriscopeQuery

/// A namespace as the catalog stores it: its name and id (records are keyed by the id, as
/// Temporal writes them), retention, custom search attributes, and where it lives in the
/// deployment: its home region (the one that accepts its writes), every region holding it,
/// and the versions that order its changes the same way in every region.
public struct NamespaceEntry: Codable, Sendable, Equatable {
    public var name: String
    public var id: String
    /// Closed executions older than this are dropped by retention.
    public var retentionSeconds: Int64
    /// Custom attribute name → `SearchAttributeType` raw value (Temporal's numbers).
    public var customAttributes: [String: Int]
    public var homeRegion: String
    /// Every region holding the namespace, the home included, sorted.
    public var regions: [String]
    /// Stamped on every write the home accepts; a failover moves it to a number the new home
    /// issues (`DeploymentDirectory.nextFailoverVersion`).
    public var failoverVersion: Int64
    /// Increases with every change; changes are ordered by (failover version, this).
    public var metadataVersion: UInt64
    /// The home the namespace was created with: it issued failover version 0.
    public var initialHome: String
    /// A planned failover under way: the region the home is handing over to.
    public var handingOverTo: String?
    /// Regions added after the namespace was created → the metadata version that added each:
    /// such a region receives the executions written before by a backfill from the home.
    public var regionsAddedAt: [String: UInt64]
    /// The target of a migration (`periscope migrate`): `ImportWrites` is accepted, stamped
    /// with the source's order instead of the failover version, and a planned failover is
    /// refused until the import is finished.
    public var importing: Bool
    /// After an import finished: the failover version its largest order was imported under.
    /// Deletes still imported (a capture following the source through the write cutover) are
    /// stamped at most this, below the engine's own writes under the raised failover version;
    /// upserts still imported take the failover version itself (`ImportWrites`).
    public var importCeiling: Int64?

    public init(name: String, id: String, retentionSeconds: Int64, customAttributes: [String: Int] = [:], homeRegion: String,
                regions: [String]? = nil) {
        self.name = name
        self.id = id
        self.retentionSeconds = retentionSeconds
        self.customAttributes = customAttributes
        self.homeRegion = homeRegion
        self.regions = Set((regions ?? []) + [homeRegion]).sorted()
        failoverVersion = 0
        metadataVersion = 1
        initialHome = homeRegion
        handingOverTo = nil
        regionsAddedAt = [:]
        importing = false
        importCeiling = nil
    }

    private enum CodingKeys: String, CodingKey {
        case name, id, retentionSeconds, customAttributes, homeRegion, regions, failoverVersion, metadataVersion, initialHome, handingOverTo,
             regionsAddedAt, importing, importCeiling
    }

    /// Entries stored before namespaces spanned regions decode as homed in one region, never failed over.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        id = try container.decode(String.self, forKey: .id)
        retentionSeconds = try container.decode(Int64.self, forKey: .retentionSeconds)
        customAttributes = try container.decode([String: Int].self, forKey: .customAttributes)
        homeRegion = try container.decode(String.self, forKey: .homeRegion)
        regions = try container.decodeIfPresent([String].self, forKey: .regions) ?? [homeRegion]
        failoverVersion = try container.decodeIfPresent(Int64.self, forKey: .failoverVersion) ?? 0
        metadataVersion = try container.decodeIfPresent(UInt64.self, forKey: .metadataVersion) ?? 1
        initialHome = try container.decodeIfPresent(String.self, forKey: .initialHome) ?? homeRegion
        handingOverTo = try container.decodeIfPresent(String.self, forKey: .handingOverTo)
        regionsAddedAt = try container.decodeIfPresent([String: UInt64].self, forKey: .regionsAddedAt) ?? [:]
        importing = try container.decodeIfPresent(Bool.self, forKey: .importing) ?? false
        importCeiling = try container.decodeIfPresent(Int64.self, forKey: .importCeiling)
    }

    /// Orders two copies of the namespace from different regions: the newer wins everywhere.
    /// A failover (a new failover version) wins over any change made under an older one.
    public var version: NamespaceVersion { NamespaceVersion(failoverVersion: failoverVersion, metadataVersion: metadataVersion) }

    /// Whether `region` receives the namespace's writes.
    public func isHeld(by region: String) -> Bool { regions.contains(region) }

    /// `text` compiled against the namespace's schema, for listing or counting.
    public func plan(_ text: String, context: QueryContext) throws -> QueryPlan {
        try Query.compile(text, schema: schema, context: context).plan
    }

    /// The schema records and queries of this namespace are checked against.
    public var schema: NamespaceSchema {
        // Entries are only ever stored after `NamespaceSchema` accepted every attribute, so
        // rebuilding the schema cannot fail (a damaged entry would be refused at decode).
        let types = customAttributes.compactMapValues(SearchAttributeType.init(rawValue:))
        return (try? NamespaceSchema(customAttributes: types)) ?? NamespaceSchema()
    }
}

/// The order of a namespace's changes across regions.
public struct NamespaceVersion: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var failoverVersion: Int64
    public var metadataVersion: UInt64

    public static func < (lhs: NamespaceVersion, rhs: NamespaceVersion) -> Bool {
        (lhs.failoverVersion, lhs.metadataVersion) < (rhs.failoverVersion, rhs.metadataVersion)
    }

    public var description: String { "failover version \(failoverVersion), metadata version \(metadataVersion)" }
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
