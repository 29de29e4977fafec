/// Identifies one workflow execution: `(namespace, workflowId, runId)`.
public struct ExecutionKey: Hashable, Sendable, CustomStringConvertible {
    /// The namespace's id (Temporal writes by namespace id, not name).
    public var namespaceId: String
    public var workflowId: String
    public var runId: String

    public init(namespaceId: String, workflowId: String, runId: String) {
        self.namespaceId = namespaceId
        self.workflowId = workflowId
        self.runId = runId
    }

    public var description: String { "\(namespaceId)/\(workflowId)/\(runId)" }
}

/// What the visibility store knows about one workflow execution.
///
/// Mirrors Temporal's `InternalVisibilityRequestBase` plus the close fields. `version` is the
/// engine's task id: writes with a lower version than the stored one are acknowledged and
/// ignored, which makes writes idempotent and order-insensitive.
public struct VisibilityRecord: Hashable, Sendable {
    public var key: ExecutionKey
    public var version: Int64
    /// The namespace's failover version when its home region accepted this write (0 until
    /// the namespace first fails over). Compared before `version`: a write accepted after a
    /// failover wins over any accepted before it, whatever the task ids, as in Temporal's
    /// conflict resolution. Set by the node, never by the caller.
    public var failoverVersion: Int64 = 0
    public var workflowType: String
    public var taskQueue: String
    public var status: ExecutionStatus
    public var startTime: Timestamp
    /// Later than `startTime` for cron, retry and delayed starts.
    public var executionTime: Timestamp
    /// Set once the execution closes.
    public var closeTime: Timestamp?
    /// Nanoseconds; set on close.
    public var executionDuration: Int64?
    public var historyLength: Int64?
    public var historySizeBytes: Int64?
    public var stateTransitionCount: Int64?
    public var parentWorkflowId: String?
    public var parentRunId: String?
    public var rootWorkflowId: String
    public var rootRunId: String
    /// Opaque to Periscope: stored and returned, never indexed.
    public var memo: [UInt8]
    /// Predefined and custom attributes, by exact name.
    public var searchAttributes: [String: SearchAttributeValue]

    public init(
        key: ExecutionKey,
        version: Int64,
        workflowType: String,
        taskQueue: String,
        status: ExecutionStatus,
        startTime: Timestamp,
        executionTime: Timestamp? = nil,
        closeTime: Timestamp? = nil,
        executionDuration: Int64? = nil,
        historyLength: Int64? = nil,
        historySizeBytes: Int64? = nil,
        stateTransitionCount: Int64? = nil,
        parentWorkflowId: String? = nil,
        parentRunId: String? = nil,
        rootWorkflowId: String = "",
        rootRunId: String = "",
        memo: [UInt8] = [],
        searchAttributes: [String: SearchAttributeValue] = [:]
    ) {
        self.key = key
        self.version = version
        self.workflowType = workflowType
        self.taskQueue = taskQueue
        self.status = status
        self.startTime = startTime
        self.executionTime = executionTime ?? startTime
        self.closeTime = closeTime
        self.executionDuration = executionDuration
        self.historyLength = historyLength
        self.historySizeBytes = historySizeBytes
        self.stateTransitionCount = stateTransitionCount
        self.parentWorkflowId = parentWorkflowId
        self.parentRunId = parentRunId
        self.rootWorkflowId = rootWorkflowId
        self.rootRunId = rootRunId
        self.memo = memo
        self.searchAttributes = searchAttributes
    }

    /// The record as Temporal stores it: attributes upserted to an empty value are removed.
    public func normalized() -> VisibilityRecord {
        var copy = self
        copy.searchAttributes = searchAttributes.filter { !$0.value.isEmpty }
        return copy
    }
}
