import Foundation
import PeriscopeAPI

/// How fresh a query's answer must be.
public enum Consistency: Sendable, Equatable {
    /// What the indexes hold now (the default; may lag the newest writes by milliseconds).
    case eventual
    /// At least every write that returned this token (`WriteResult.consistencyToken`).
    case readYourWrites([UInt8])
    /// Everything committed when the query arrived.
    case strong

    var wire: Periscope_V1_ReadConsistency {
        switch self {
        case .eventual: .with { $0.level = .eventual }
        case .strong: .with { $0.level = .strong }
        case .readYourWrites(let token): .with { $0.level = .readYourWrites; $0.consistencyToken = Data(token) }
        }
    }
}

/// Which regions a query reads.
public enum QueryScope: Sendable, Equatable {
    /// The region of the node asked: its own writes and what it has received from the others.
    case local
    /// Every region holding the namespace, each execution once in its newest version. With
    /// `allowPartial`, regions that do not answer in time are left out and named in the
    /// result's `missingRegions`; without, the query fails naming them.
    case federated(allowPartial: Bool = false)

    var wire: (Periscope_V1_QueryScope, Bool) {
        switch self {
        case .local: (.local, false)
        case .federated(let allowPartial): (.federated, allowPartial)
        }
    }
}

public struct WriteResult: Sendable, Equatable {
    /// False when the store already held this version or a newer one (the write was a no-op).
    public var applied: Bool
    /// Pass as `.readYourWrites(token)` to a query to see this write.
    public var consistencyToken: [UInt8]
}

public struct ExecutionPage: Sendable {
    public var executions: [Execution]
    /// Nil on the last page.
    public var nextPageToken: [UInt8]?
    /// The listing paused past a shard's point-in-time keep-alive (or the node restarted):
    /// pages since may miss or repeat executions that changed meanwhile.
    public var pointInTimeLost: Bool
    /// A federated query with partial results allowed: regions that did not answer (their
    /// executions are missing from this page; the next page asks them again).
    public var missingRegions: [String] = []
}

public struct CountResult: Sendable, Equatable {
    public struct Group: Sendable, Equatable {
        /// Empty for the executions without a value.
        public var values: [Periscope_V1_SearchAttributeValue]
        public var count: Int64
    }

    public var count: Int64
    public var groups: [Group]
    /// A federated count with partial results allowed: regions that did not answer (not counted).
    public var missingRegions: [String] = []
}

extension PeriscopeClient {
    // MARK: Writes (idempotent by version: retried on transient failures)

    public func recordStarted(namespace: String, _ execution: Execution) async throws(PeriscopeError) -> WriteResult {
        Self.result(try await call(VisibilityMethods.recordExecutionStarted, .with { $0.namespace = namespace; $0.execution = execution },
                                   route: .execution(namespace: namespace, workflowID: execution.workflowID)))
    }

    public func recordClosed(namespace: String, _ execution: Execution) async throws(PeriscopeError) -> WriteResult {
        Self.result(try await call(VisibilityMethods.recordExecutionClosed, .with { $0.namespace = namespace; $0.execution = execution },
                                   route: .execution(namespace: namespace, workflowID: execution.workflowID)))
    }

    public func upsert(namespace: String, _ execution: Execution) async throws(PeriscopeError) -> WriteResult {
        Self.result(try await call(VisibilityMethods.upsertExecution, .with { $0.namespace = namespace; $0.execution = execution },
                                   route: .execution(namespace: namespace, workflowID: execution.workflowID)))
    }

    public func delete(namespace: String, workflowID: String, runID: String, version: Int64) async throws(PeriscopeError) -> WriteResult {
        Self.result(try await call(VisibilityMethods.deleteExecution, .with {
            $0.namespace = namespace
            $0.workflowID = workflowID
            $0.runID = runID
            $0.version = version
        }, route: .execution(namespace: namespace, workflowID: workflowID)))
    }

    /// Several writes in one call; each has its own outcome (a refused write does not stop
    /// the others).
    public func writeBatch(_ writes: [Periscope_V1_ExecutionWrite]) async throws(PeriscopeError) -> Periscope_V1_WriteBatchResponse {
        try await call(VisibilityMethods.writeBatch, .with { $0.writes = writes })
    }

    private static func result(_ response: Periscope_V1_WriteResponse) -> WriteResult {
        WriteResult(applied: response.applied, consistencyToken: Array(response.consistencyToken))
    }

    // MARK: Queries

    /// One page of executions matching `query` (Temporal's List Filter, optionally with
    /// ORDER BY), continued by `pageToken`.
    public func list(namespace: String, query: String = "", pageSize: Int = 0, pageToken: [UInt8]? = nil,
                     consistency: Consistency = .eventual, scope: QueryScope = .local) async throws(PeriscopeError) -> ExecutionPage {
        let response = try await call(VisibilityMethods.listExecutions, .with {
            $0.namespace = namespace
            $0.query = query
            $0.pageSize = Int32(clamping: pageSize)
            $0.nextPageToken = Data(pageToken ?? [])
            $0.consistency = consistency.wire
            ($0.scope, $0.allowPartialResults) = scope.wire
        })
        return ExecutionPage(executions: response.executions,
                             nextPageToken: response.nextPageToken.isEmpty ? nil : Array(response.nextPageToken),
                             pointInTimeLost: response.pointInTimeLost, missingRegions: response.missingRegions)
    }

    /// Every execution matching `query`, fetched a page at a time as the sequence is read.
    public func executions(namespace: String, query: String = "", pageSize: Int = 0,
                           consistency: Consistency = .eventual, scope: QueryScope = .local) -> ExecutionSequence {
        ExecutionSequence(client: self, namespace: namespace, query: query, pageSize: pageSize, consistency: consistency, scope: scope)
    }

    public func count(namespace: String, query: String = "", consistency: Consistency = .eventual,
                      scope: QueryScope = .local) async throws(PeriscopeError) -> CountResult {
        let response = try await call(VisibilityMethods.countExecutions, .with {
            $0.namespace = namespace
            $0.query = query
            $0.consistency = consistency.wire
            ($0.scope, $0.allowPartialResults) = scope.wire
        })
        return CountResult(count: response.count, groups: response.groups.map { .init(values: $0.groupValues, count: $0.count) },
                           missingRegions: response.missingRegions)
    }

    /// The execution, or nil if the namespace has no such execution.
    public func execution(namespace: String, workflowID: String, runID: String,
                          consistency: Consistency = .eventual) async throws(PeriscopeError) -> Execution? {
        do {
            return try await call(VisibilityMethods.getExecution, .with {
                $0.namespace = namespace
                $0.workflowID = workflowID
                $0.runID = runID
                $0.consistency = consistency.wire
            }).execution
        } catch where error.code == .notFound && error.message.hasPrefix("execution ") {
            return nil
        }
    }

    /// The plan each shard would use for `query`.
    public func explain(namespace: String, query: String) async throws(PeriscopeError) -> [String] {
        try await call(VisibilityMethods.explainQuery, .with { $0.namespace = namespace; $0.query = query }).shardPlans
    }
}

/// Pages fetched on demand, yielded one execution at a time.
public struct ExecutionSequence: AsyncSequence, Sendable {
    public typealias Element = Execution
    let client: PeriscopeClient
    let namespace: String
    let query: String
    let pageSize: Int
    let consistency: Consistency
    let scope: QueryScope

    public struct AsyncIterator: AsyncIteratorProtocol {
        let sequence: ExecutionSequence
        var buffered: [Execution] = []
        var position = 0
        var token: [UInt8]?
        var finished = false

        public mutating func next() async throws -> Execution? {
            while position == buffered.count {
                guard !finished else { return nil }
                let page = try await sequence.client.list(namespace: sequence.namespace, query: sequence.query,
                                                          pageSize: sequence.pageSize, pageToken: token,
                                                          consistency: token == nil ? sequence.consistency : .eventual,
                                                          scope: sequence.scope)
                buffered = page.executions
                position = 0
                token = page.nextPageToken
                finished = token == nil
            }
            defer { position += 1 }
            return buffered[position]
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(sequence: self) }
}
