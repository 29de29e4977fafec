import Foundation
import PeriscopeModel

/// Where each namespace of a migration reads and writes: the switch `MigratingVisibility`
/// (the engine's side) and `periscope migrate query` honour, kept in the migration's record
/// (part "routing") beside its state.
public struct MigrationRouting: Codable, Sendable, Equatable {
    public enum Stage: String, Codable, Sendable, CaseIterable {
        /// Reads and writes go to the source; reads are shadowed to Periscope and compared.
        case source
        /// Reads come from Periscope; writes still go to the source (the capture brings them).
        case periscopeReads
        /// Reads and writes go to Periscope; each write is written back to the source after,
        /// so that a rollback finds the source complete.
        case periscopeWrites
        /// The migration is over: Periscope alone; the source is no longer written.
        case finished
    }

    /// Periscope namespace → its stage (absent: `source`).
    public var stages: [String: Stage] = [:]
    /// What each change did and why, oldest first (the last 100).
    public var history: [String] = []
    /// Bumped on every change: the record's version.
    public var revision: Int64 = 0
    /// When the last rollback was made (nanoseconds since the epoch; 0: never): a cutover
    /// needs a validation made after it.
    public var rolledBackAt: Int64 = 0

    public static let part = "routing"
    static let historyMax = 100

    public init() {}

    public func stage(of namespace: String) -> Stage { stages[namespace] ?? .source }

    mutating func set(_ stage: Stage, for namespaces: [String], because reason: String, at time: Timestamp) {
        for namespace in namespaces {
            let before = self.stage(of: namespace)
            stages[namespace] = stage
            history.append("\(time.rfc3339) \(namespace): \(before.rawValue) -> \(stage.rawValue) (\(reason))")
        }
        if history.count > Self.historyMax { history.removeFirst(history.count - Self.historyMax) }
    }
}

extension MigrationStore {
    public func routing(_ migration: String) async throws -> MigrationRouting {
        try await document(MigrationRouting.self, migration: migration, part: MigrationRouting.part) ?? MigrationRouting()
    }

    /// Saves `routing` as its next revision; refused if another process changed it meanwhile.
    func save(_ routing: inout MigrationRouting, migration: String) async throws {
        routing.revision += 1
        guard try await save(routing, migration: migration, part: MigrationRouting.part, version: routing.revision) else {
            throw MigrationError.wrongPhase("the routing of migration \(migration) was changed by another process meanwhile: run one "
                + "cutover or rollback at a time")
        }
    }
}
