import Foundation
import PeriscopeAPI
import PeriscopeModel
import PeriscopeQuery
import PeriscopeRPC
import PeriscopeShard

/// `periscope.v1.VisibilityService` on a node: each call resolves its namespace in the
/// catalog, checks the request against the namespace's schema and limits, and calls the
/// node. Nothing reaches a shard before it is valid; every refusal names what was wrong.
public struct VisibilityService: Sendable {
    let node: VisibilityNode

    public init(node: VisibilityNode) { self.node = node }

    public func register(in router: inout RPCRouter) {
        route(VisibilityMethods.recordExecutionStarted, &router, kind: "write") { request in
            let record = try await self.record(request.execution, present: request.hasExecution, namespace: request.namespace)
            return try await self.writeOne(try Self.started(record), key: record.key)
        }
        route(VisibilityMethods.recordExecutionClosed, &router, kind: "write") { request in
            let record = try await self.record(request.execution, present: request.hasExecution, namespace: request.namespace)
            return try await self.writeOne(try Self.closed(record), key: record.key)
        }
        route(VisibilityMethods.upsertExecution, &router, kind: "write") { request in
            let record = try await self.record(request.execution, present: request.hasExecution, namespace: request.namespace)
            return try await self.writeOne(try Self.upserted(record), key: record.key)
        }
        route(VisibilityMethods.deleteExecution, &router, kind: "write") { request in
            let (command, key) = try await self.delete(request)
            return try await self.writeOne(command, key: key)
        }
        route(VisibilityMethods.writeBatch, &router, kind: "write") { request in try await self.writeBatch(request) }
        route(VisibilityMethods.listExecutions, &router, kind: "query") { request in try await self.list(request) }
        route(VisibilityMethods.countExecutions, &router, kind: "query") { request in try await self.count(request) }
        route(VisibilityMethods.getExecution, &router, kind: "query") { request in
            let namespace = try await self.node.namespace(named: request.namespace)
            try self.checkIdentifiers(request.workflowID, request.runID, method: "GetExecution")
            let key = ExecutionKey(namespaceId: namespace.id, workflowId: request.workflowID, runId: request.runID)
            guard let record = try await self.node.execution(key, consistency: try self.consistency(request.consistency)) else {
                throw RPCStatus(.notFound, "execution \(request.workflowID)/\(request.runID) is not in namespace \(request.namespace)")
            }
            return .with { $0.execution = WireConversions.wire(record) }
        }
        route(VisibilityMethods.explainQuery, &router, kind: "query") { request in
            let namespace = try await self.node.namespace(named: request.namespace)
            // Compiled for counting when it groups, for listing otherwise: both plans are shown the same way.
            let text = request.query
            let plan: QueryPlan
            if let listed = try? namespace.plan(text, context: .list) {
                plan = listed
            } else {
                plan = try namespace.plan(text, context: .count)
            }
            let plans = try await self.node.explain(namespace: namespace, plan: plan)
            return .with { $0.shardPlans = plans }
        }
        registerNamespaceAdministration(in: &router)
    }

    /// Registers `handler` with timing, metrics and the status mapping every call shares.
    func route<Request, Response>(_ method: RPCMethod<Request, Response>, _ router: inout RPCRouter, kind: String,
                                  _ handler: @escaping @Sendable (Request) async throws -> Response) {
        Self.route(method, &router, metrics: node.metrics, kind: kind, handler)
    }

    static func route<Request, Response>(_ method: RPCMethod<Request, Response>, _ router: inout RPCRouter, metrics: NodeMetrics,
                                         kind: String, _ handler: @escaping @Sendable (Request) async throws -> Response) {
        router.unary(method) { request, _ in
            let started = ContinuousClock.now
            do {
                let response = try await handler(request)
                metrics.recordCall(method: method.name, kind: kind, code: "OK", duration: ContinuousClock.now - started)
                return response
            } catch {
                let status = StatusMapping.status(for: error)
                metrics.recordCall(method: method.name, kind: kind, code: status.code.name, duration: ContinuousClock.now - started)
                throw status
            }
        }
    }

    // MARK: Writes

    /// The request's execution as a record of the namespace, checked against its schema, and
    /// stamped with the namespace's failover version. Refused unless this region is the
    /// namespace's home (the error names the home and its nodes).
    func record(_ execution: Periscope_V1_Execution, present: Bool, namespace name: String) async throws -> VisibilityRecord {
        let namespace = try await node.writableNamespace(named: name)
        guard present else { throw WireConversions.invalid("the request has no execution") }
        var record = try WireConversions.record(execution, namespaceId: namespace.id)
        try namespace.schema.validate(record)
        record.failoverVersion = namespace.failoverVersion
        return record
    }

    static func started(_ record: VisibilityRecord) throws -> ShardCommand {
        guard record.status.isOpen, record.closeTime == nil else {
            throw WireConversions.invalid("a start needs execution.status RUNNING or PAUSED and no close_time (got "
                + "\(record.status.protoName)); record a closed execution with RecordExecutionClosed")
        }
        return .start(record)
    }

    static func closed(_ record: VisibilityRecord) throws -> ShardCommand {
        guard !record.status.isOpen, record.closeTime != nil else {
            throw WireConversions.invalid("a close needs execution.close_time and a closed execution.status (COMPLETED, FAILED, …); got "
                + "\(record.status.protoName)" + (record.closeTime == nil ? " and no close_time" : ""))
        }
        return .close(record)
    }

    /// An upsert may carry an open or a closed execution, but its status and close time agree.
    static func upserted(_ record: VisibilityRecord) throws -> ShardCommand {
        guard record.status.isOpen == (record.closeTime == nil) else {
            throw WireConversions.invalid("execution.status \(record.status.protoName) and close_time disagree: an open execution has "
                + "no close_time, a closed one has one")
        }
        return .upsert(record)
    }

    /// A workflow id and run id that name an execution (deletes and gets carry no record to validate).
    func checkIdentifiers(_ workflowID: String, _ runID: String, method: String) throws {
        guard !workflowID.isEmpty, !runID.isEmpty else { throw WireConversions.invalid("\(method) needs workflow_id and run_id") }
        let limit = NamespaceSchema().limits.identifierBytesMax
        for (field, value) in [("workflow_id", workflowID), ("run_id", runID)] where value.utf8.count > limit {
            throw WireConversions.invalid("\(method): \(field) length \(value.utf8.count) exceeds limit \(limit)")
        }
    }

    func delete(_ request: Periscope_V1_DeleteExecutionRequest) async throws -> (ShardCommand, ExecutionKey) {
        let namespace = try await node.writableNamespace(named: request.namespace)
        try checkIdentifiers(request.workflowID, request.runID, method: "DeleteExecution")
        guard request.version >= 0 else { throw WireConversions.invalid("DeleteExecution: version must not be negative: \(request.version)") }
        let key = ExecutionKey(namespaceId: namespace.id, workflowId: request.workflowID, runId: request.runID)
        return (.delete(key, version: request.version, at: try node.clocks.regionTime(node: node.nodeID), failoverVersion: namespace.failoverVersion), key)
    }

    private func writeOne(_ command: ShardCommand, key: ExecutionKey) async throws -> Periscope_V1_WriteResponse {
        let shard = node.shard(of: key)
        if node.configuration.unsafeLostWritesPercent > 0, Int.random(in: 0..<100) < node.configuration.unsafeLostWritesPercent {
            // The deliberate bug (see `NodeConfiguration.unsafeLostWritesPercent`).
            return .with { $0.applied = true }
        }
        let applied = try await node.proposeWrites([command], toShard: shard)
        if let refusal = Self.refusal(applied.outcomes.first) { throw refusal }
        return .with {
            $0.applied = applied.outcomes.first?.changedStore ?? false
            $0.consistencyToken = Data(node.consistencyToken([shard: applied.index]))
        }
    }

    /// Why a shard refused a write it was given, if it did.
    static func refusal(_ outcome: ApplyOutcome?) -> RPCStatus? {
        switch outcome {
        case .rejected(let why)?: RPCStatus(.internalError, "the shard could not decode the write: \(why)")
        case .fenced(let version)?:
            RPCStatus(.unavailable, "the namespace is failing over to another region: this region no longer commits its writes "
                + "(failover version \(version)); retry, and the writes go to its new home")
        default: nil
        }
    }

    private func writeBatch(_ request: Periscope_V1_WriteBatchRequest) async throws -> Periscope_V1_WriteBatchResponse {
        guard !request.writes.isEmpty else { throw WireConversions.invalid("WriteBatch has no writes") }
        let limit = node.configuration.batchWritesMax
        guard request.writes.count <= limit else {
            throw WireConversions.invalid("WriteBatch has \(request.writes.count) writes; at most \(limit) per call")
        }
        var outcomes = [Periscope_V1_WriteOutcome](repeating: Periscope_V1_WriteOutcome(), count: request.writes.count)
        var commands: [ShardCommand] = []
        var positions: [Int] = []
        for (position, write) in request.writes.enumerated() {
            do {
                let command: ShardCommand
                switch write.write {
                case .started(let started)?:
                    command = try Self.started(try await record(started.execution, present: started.hasExecution, namespace: started.namespace))
                case .closed(let closed)?:
                    command = try Self.closed(try await record(closed.execution, present: closed.hasExecution, namespace: closed.namespace))
                case .upsert(let upsert)?:
                    command = try Self.upserted(try await record(upsert.execution, present: upsert.hasExecution, namespace: upsert.namespace))
                case .delete(let delete)?:
                    command = try await self.delete(delete).0
                case nil:
                    throw WireConversions.invalid("write \(position) sets none of started, closed, upsert, delete")
                }
                commands.append(command)
                positions.append(position)
            } catch {
                outcomes[position] = Self.refused(error, position: position)
            }
        }
        let token = await write(commands, at: positions, into: &outcomes)
        return .with {
            $0.outcomes = outcomes
            $0.consistencyToken = Data(token)
        }
    }

    /// Proposes the valid writes of a batch (`commands`, from request `positions`) and fills
    /// their outcomes in; returns the consistency token covering them.
    func write(_ commands: [ShardCommand], at positions: [Int], into outcomes: inout [Periscope_V1_WriteOutcome]) async -> [UInt8] {
        guard !commands.isEmpty else { return [] }
        let written = await node.write(commands)
        for (position, result) in zip(positions, written.outcomes) {
            switch result {
            case .success(let outcome):
                if let refusal = Self.refusal(outcome) {
                    outcomes[position] = .with { $0.code = Int32(refusal.code.rawValue); $0.message = "write \(position): \(refusal.message)" }
                } else {
                    outcomes[position] = .with { $0.applied = outcome.changedStore }
                }
            case .failure(let error):
                let status = StatusMapping.status(for: error)
                outcomes[position] = .with { $0.code = Int32(status.code.rawValue); $0.message = status.message }
            }
        }
        return written.token
    }

    /// A write of a batch that was refused before it was proposed.
    static func refused(_ error: any Error, position: Int) -> Periscope_V1_WriteOutcome {
        let status = StatusMapping.status(for: error)
        return .with { $0.code = Int32(status.code.rawValue); $0.message = "write \(position): \(status.message)" }
    }

    // MARK: Queries

    func consistency(_ wire: Periscope_V1_ReadConsistency) throws -> QueryConsistency { try Self.queryConsistency(wire) }

    static func queryConsistency(_ wire: Periscope_V1_ReadConsistency) throws -> QueryConsistency {
        switch wire.level {
        case .unspecified, .eventual: return .eventual
        case .strong: return .strong
        case .readYourWrites:
            guard !wire.consistencyToken.isEmpty else {
                throw WireConversions.invalid("CONSISTENCY_READ_YOUR_WRITES needs the consistency_token a write returned")
            }
            return .readYourWrites(Array(wire.consistencyToken))
        case .UNRECOGNIZED(let value): throw WireConversions.invalid("consistency level \(value) is not a Consistency")
        }
    }

    /// Whether a query reads every region holding its namespace; refuses what is not a scope.
    static func isFederated(_ scope: Periscope_V1_QueryScope, allowPartial: Bool) throws -> Bool {
        switch scope {
        case .unspecified, .local:
            guard !allowPartial else { throw WireConversions.invalid("allow_partial_results applies to QUERY_SCOPE_FEDERATED only") }
            return false
        case .federated: return true
        case .UNRECOGNIZED(let value): throw WireConversions.invalid("scope \(value) is not a QueryScope")
        }
    }

    private func list(_ request: Periscope_V1_ListExecutionsRequest) async throws -> Periscope_V1_ListExecutionsResponse {
        let namespace = try await node.namespace(named: request.namespace)
        let configuration = node.configuration
        guard request.pageSize >= 0 else { throw WireConversions.invalid("page_size must not be negative: \(request.pageSize)") }
        let pageSize = request.pageSize == 0 ? configuration.pageSizeDefault : min(Int(request.pageSize), configuration.pageSizeMax)
        if try Self.isFederated(request.scope, allowPartial: request.allowPartialResults) {
            let page = try await node.federatedList(namespace: namespace, query: request.query,
                                                    plan: try namespace.plan(request.query, context: .list), pageSize: pageSize,
                                                    pageToken: request.nextPageToken.isEmpty ? nil : Array(request.nextPageToken),
                                                    consistency: request.consistency, allowPartial: request.allowPartialResults)
            return .with {
                $0.executions = page.executions
                $0.nextPageToken = Data(page.nextPageToken ?? [])
                $0.pointInTimeLost = page.pointInTimeLost
                $0.missingRegions = page.missingRegions
            }
        }
        let page = try await node.list(namespace: namespace, plan: try namespace.plan(request.query, context: .list),
                                       pageSize: pageSize, pageToken: request.nextPageToken.isEmpty ? nil : Array(request.nextPageToken),
                                       consistency: try consistency(request.consistency))
        return .with {
            $0.executions = page.records.map(WireConversions.wire)
            $0.nextPageToken = Data(page.nextPageToken ?? [])
            $0.pointInTimeLost = page.pointInTimeLost
        }
    }

    private func count(_ request: Periscope_V1_CountExecutionsRequest) async throws -> Periscope_V1_CountExecutionsResponse {
        let namespace = try await node.namespace(named: request.namespace)
        let plan = try namespace.plan(request.query, context: .count)
        if try Self.isFederated(request.scope, allowPartial: request.allowPartialResults) {
            let result = try await node.federatedCount(namespace: namespace, query: request.query, plan: plan,
                                                       consistency: request.consistency, allowPartial: request.allowPartialResults)
            return .with {
                $0.count = result.count
                $0.groups = result.groups
                $0.missingRegions = result.missing
            }
        }
        let result = try await node.count(namespace: namespace, plan: plan, consistency: try consistency(request.consistency))
        return .with {
            $0.count = Int64(result.total)
            if plan.groupBy != nil { $0.groups = WireConversions.groups(result) }
        }
    }
}
