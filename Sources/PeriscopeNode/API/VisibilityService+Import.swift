import Foundation
import PeriscopeAPI
import PeriscopeModel
import PeriscopeRPC
import PeriscopeShard

/// `AdminService.ImportWrites`: writes another store holds, copied in by `periscope migrate`,
/// each carrying the source's order as its failover version (docs/migration.md, "Ordering").
extension VisibilityService {
    func importWrites(_ request: Periscope_V1_ImportWritesRequest) async throws -> Periscope_V1_ImportWritesResponse {
        guard !request.writes.isEmpty else { throw WireConversions.invalid("ImportWrites has no writes") }
        let limit = node.configuration.batchWritesMax
        guard request.writes.count <= limit else {
            throw WireConversions.invalid("ImportWrites has \(request.writes.count) writes; at most \(limit) per call")
        }
        let namespace = try await node.writableNamespace(named: request.namespace)
        var outcomes = [Periscope_V1_WriteOutcome](repeating: Periscope_V1_WriteOutcome(), count: request.writes.count)
        var commands: [ShardCommand] = []
        var positions: [Int] = []
        for (position, write) in request.writes.enumerated() {
            do {
                guard write.sourceOrder >= 0 else { throw WireConversions.invalid("source_order must not be negative: \(write.sourceOrder)") }
                switch write.write {
                case .upsert(let execution)?:
                    var record = try WireConversions.record(execution, namespaceId: namespace.id)
                    try namespace.schema.validate(record)
                    record.failoverVersion = write.sourceOrder
                    commands.append(try Self.upserted(record))
                case .delete(let delete)?:
                    try checkIdentifiers(delete.workflowID, delete.runID, method: "ImportWrites")
                    let key = ExecutionKey(namespaceId: namespace.id, workflowId: delete.workflowID, runId: delete.runID)
                    // The source's delete is unconditional: the tombstone loses only to a later
                    // change of the source (a higher order), never to a version.
                    commands.append(.delete(key, version: .max, at: try node.clocks.regionTime(node: node.nodeID),
                                            failoverVersion: write.sourceOrder))
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
