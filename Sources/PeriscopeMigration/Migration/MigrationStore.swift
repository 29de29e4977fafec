import Foundation
import PeriscopeAPI
import PeriscopeClient
import PeriscopeModel

/// Keeps migrations' state in Periscope itself: one execution per migration in the namespace
/// `periscope-migrations`, its memo the state as JSON and its version the state's revision.
/// Saved with the same durability as any write (committed by a quorum, fsync'd), read with a
/// strong read, so a command on any machine resumes where the last one stopped. A save that
/// the store refuses as not newer means another process runs the same migration: it stops.
public struct MigrationStore: Sendable {
    public static let namespace = "periscope-migrations"
    public let client: PeriscopeClient

    public init(client: PeriscopeClient) { self.client = client }

    /// Creates the namespace if it does not exist.
    public func prepare() async throws {
        guard try await MigrationSetup.described(Self.namespace, client: client) == nil else { return }
        do {
            _ = try await client.createNamespace(Self.namespace)
        } catch {
            if error.code != .alreadyExists { throw error }
        }
    }

    public func load(_ name: String) async throws -> MigrationState? {
        try await document(MigrationState.self, migration: name, part: "state")
    }

    /// The state of a migration that must exist.
    public func existing(_ name: String) async throws -> MigrationState {
        guard let state = try await load(name) else { throw MigrationError.invalid("no migration named \(name)") }
        return state
    }

    /// Saves `state` as its next revision.
    public func save(_ state: inout MigrationState) async throws {
        state.revision += 1
        let applied = try await save(state, migration: state.name, part: "state", version: state.revision, phase: state.phase.rawValue)
        // Refused as not newer: another process saved meanwhile, or this very save did, and
        // the client retried it after its answer was lost. Only the first is a conflict.
        let savedByThisCall = applied ? true : (try await load(state.name)) == state
        guard savedByThisCall else {
            throw MigrationError.wrongPhase("migration \(state.name) was saved by another process meanwhile (revision \(state.revision) "
                + "is not newer): run one command per migration at a time")
        }
    }

    /// Another part of a migration's record, kept beside its state so that commands running
    /// at once (a capture and a validation) never overwrite each other: `part` is its run id.
    public func document<Document: Decodable>(_ type: Document.Type, migration: String, part: String) async throws -> Document? {
        guard let execution = try await client.execution(namespace: Self.namespace, workflowID: migration, runID: part,
                                                         consistency: .strong) else {
            return nil
        }
        do {
            return try JSONDecoder().decode(Document.self, from: execution.memo)
        } catch {
            throw MigrationError.invalid("the \(part) of migration \(migration) in namespace \(Self.namespace) is unreadable: \(error)")
        }
    }

    /// Writes `document` as version `version` of the part; false if a newer version is there.
    @discardableResult
    public func save<Document: Encodable>(_ document: Document, migration: String, part: String, version: Int64,
                                          phase: String = "") async throws -> Bool {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var execution = Execution()
        execution.workflowID = migration
        execution.runID = part
        execution.version = version
        execution.workflowType = "periscope-migration"
        execution.taskQueue = phase.isEmpty ? part : phase
        execution.status = .running
        execution.startTime = RecordWire.wire(Timestamp.wallClockNow)
        execution.memo = try encoder.encode(document)
        return try await client.upsert(namespace: Self.namespace, execution).applied
    }
}
