import PeriscopeModel

/// Everything a migration has decided and done, kept in Periscope (`MigrationStore`) so that
/// any `periscope migrate` command, on any machine, resumes it where it stopped.
public struct MigrationState: Codable, Sendable, Equatable {
    public enum Phase: String, Codable, Sendable, CaseIterable {
        /// The slot and the publication exist; nothing is copied yet.
        case created
        case backfilling
        /// Every chunk is copied; the capture has not started.
        case backfilled
        case capturing
    }

    public var name: String
    /// The source's connection string, without its password (give it again, or in ~/.pgpass).
    public var source: String
    public var slot: String
    public var publication: String
    /// Source namespace id → Periscope namespace name.
    public var namespaces: [String: String]
    /// Field name → type (`SearchAttributeType`'s number) of every search attribute the source can hold.
    public var attributeTypeNumbers: [String: Int]
    /// The slot's consistent point: the capture starts there.
    public var startLSN: LSN
    /// The snapshot the slot exported (valid while the process that made it runs).
    public var snapshot: String?
    public var phase: Phase
    public var chunks: [BackfillChunk]
    /// Rows the source held when the backfill was planned (for its progress and ETA).
    public var rowsPlanned: Int
    /// Rows that did not map to a record, by their key, with why (the first `rejectedMax`).
    public var rejected: [String]
    public var rejectedCount = 0
    /// The capture applied and confirmed everything before this position.
    public var confirmedLSN: LSN
    /// Changes the capture has applied.
    public var changesApplied = 0
    /// Bumped on every save: the record's version in Periscope.
    public var revision: Int64 = 0

    public static let rejectedMax = 100

    /// A start that died before it planned its chunks (its slot may exist, its snapshot is
    /// gone): `start` again replaces it.
    public var diedStarting: Bool { phase == .created && chunks.isEmpty && rowsPlanned == 0 && !isDualWrite }

    /// A migration without a slot: the engine writes both stores (`MigratingVisibility(dualWrite: true)`).
    public var isDualWrite: Bool { slot.isEmpty }

    public var rowsCopied: Int { chunks.reduce(0) { $0 + $1.rows } }
    public var chunksDone: Int { chunks.filter(\.done).count }

    public init(name: String, source: String, slot: String, publication: String, namespaces: [String: String],
                attributeTypes: [String: SearchAttributeType], startLSN: LSN, snapshot: String?) {
        self.name = name
        self.source = source
        self.slot = slot
        self.publication = publication
        self.namespaces = namespaces
        attributeTypeNumbers = attributeTypes.mapValues(\.rawValue)
        self.startLSN = startLSN
        self.snapshot = snapshot
        phase = .created
        chunks = []
        rowsPlanned = 0
        rejected = []
        confirmedLSN = startLSN
    }

    /// Records a row that could not be copied (bounded: the count goes on).
    public mutating func reject(_ key: String, _ why: String) {
        rejectedCount += 1
        if rejected.count < Self.rejectedMax { rejected.append("\(key): \(why)") }
    }

    /// A migration's name: letters, digits and '_', so that the slot and publication named
    /// after it are valid PostgreSQL identifiers.
    public static func checkName(_ name: String) throws(MigrationError) {
        guard !name.isEmpty, name.utf8.count <= 40, name.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 122) }) else {
            throw .invalid("migration name '\(name)' must be 1 to 40 lower-case letters, digits and '_'")
        }
    }
}

extension MigrationState {
    /// Field name → type of every search attribute the source can hold.
    public var attributeTypes: [String: SearchAttributeType] { attributeTypeNumbers.compactMapValues(SearchAttributeType.init(rawValue:)) }
}
