import Foundation
import PeriscopeAPI
import PeriscopeModel
import PeriscopeRPC
import PeriscopeShard

/// `AdminService.ImportWrites`: writes another store holds, copied in by `periscope migrate`,
/// each carrying the source's order in its failover version (docs/migration.md, "Ordering").
extension VisibilityService {
    func importWrites(_ request: Periscope_V1_ImportWritesRequest) async throws -> Periscope_V1_ImportWritesResponse {
        guard !request.writes.isEmpty else { throw WireConversions.invalid("ImportWrites has no writes") }
        let limit = node.configuration.batchWritesMax
        guard request.writes.count <= limit else {
            throw WireConversions.invalid("ImportWrites has \(request.writes.count) writes; at most \(limit) per call")
        }
        let namespace = try await node.writableNamespace(named: request.namespace)
        guard namespace.importing || namespace.importCeiling != nil else {
            throw RPCStatus(.failedPrecondition, "namespace \(namespace.name) is not the target of a migration: ImportWrites is refused "
                + "(UpdateNamespace with importing = true marks it; `periscope migrate start` does)")
        }
        // After the import finished (the write cutover), what is still imported (a change the
        // engine made to the source before it saw the switch, or the echo of one written back)
        // is ordered with the engine's own writes as the source orders them: an upsert under
        // the namespace's failover version, so `_version` decides, as the source's guard does;
        // a delete (unconditional, with no version of its own) below them, at the ceiling.
        let finished = !namespace.importing
        let issuer = node.deployment.region(named: namespace.homeRegion)?.index ?? 0
        var outcomes = [Periscope_V1_WriteOutcome](repeating: Periscope_V1_WriteOutcome(), count: request.writes.count)
        var commands: [ShardCommand] = []
        var positions: [Int] = []
        for (position, write) in request.writes.enumerated() {
            do {
                guard let imported = DeploymentDirectory.importedFailoverVersion(order: write.sourceOrder, issuer: issuer) else {
                    throw WireConversions.invalid("source_order \(write.sourceOrder) is outside 0 ... \(Int64.max / 100 - 1)")
                }
                let failoverVersion = finished ? namespace.failoverVersion : imported
                switch write.write {
                case .upsert(let execution)?:
                    var record = try WireConversions.record(execution, namespaceId: namespace.id)
                    try namespace.schema.validate(record)
                    record.failoverVersion = failoverVersion
                    commands.append(try Self.upserted(record))
                case .delete(let delete)?:
                    try checkIdentifiers(delete.workflowID, delete.runID, method: "ImportWrites")
                    let key = ExecutionKey(namespaceId: namespace.id, workflowId: delete.workflowID, runId: delete.runID)
                    // The source's delete is unconditional: the tombstone loses only to a later
                    // change of the source (a higher order), never to a version.
                    let deleteVersion = finished ? min(imported, namespace.importCeiling ?? imported) : imported
                    commands.append(.delete(key, version: .max, at: try node.clocks.regionTime(node: node.nodeID),
                                            failoverVersion: deleteVersion))
                case nil:
                    throw WireConversions.invalid("write \(position) sets neither upsert nor delete")
                }
                positions.append(position)
            } catch {
                outcomes[position] = Self.refused(error, position: position)
            }
        }
        _ = await write(commands, at: positions, into: &outcomes)
        return .with { $0.outcomes = outcomes }
    }
}
