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
        guard let execution = try await client.execution(namespace: Self.namespace, workflowID: name, runID: "state", consistency: .strong) else {
            return nil
        }
        do {
            return try JSONDecoder().decode(MigrationState.self, from: execution.memo)
        } catch {
            throw MigrationError.invalid("the state of migration \(name) in namespace \(Self.namespace) is unreadable: \(error)")
        }
    }

    /// Saves `state` as its next revision.
    public func save(_ state: inout MigrationState) async throws {
        state.revision += 1
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let memo = try encoder.encode(state)
                var execution = Execution()
        execution.workflowID = state.name
        execution.runID = "state"
        execution.version = state.revision
        execution.workflowType = "periscope-migration"
        execution.taskQueue = state.phase.rawValue
        execution.status = .running
        execution.startTime = RecordWire.wire(Timestamp.wallClockNow)
        execution.memo = memo
        let written = try await client.upsert(namespace: Self.namespace, execution)
        guard written.applied else {
            throw MigrationError.wrongPhase("migration \(state.name) was saved by another process meanwhile (revision \(state.revision) "
                + "is not newer): run one command per migration at a time")
        }
    }
}
