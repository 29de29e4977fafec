/// Where an attribute comes from, which decides who may set it.
public enum AttributeKind: Sendable, Equatable {
    /// A field of every record (WorkflowId, StartTime, ...). Written by the engine through
    /// the record's own fields, never through the search-attribute map.
    case system
    /// Defined by Temporal for every namespace (BuildIds, TemporalChangeVersion, ...), carried
    /// in the search-attribute map.
    case predefined
    /// Registered by a namespace's operators.
    case custom
}

/// A resolved attribute: its exact name, type and kind.
public struct AttributeDefinition: Sendable, Hashable {
    public let name: String
    public let type: SearchAttributeType
    public let kind: AttributeKind

    public init(name: String, type: SearchAttributeType, kind: AttributeKind) {
        self.name = name
        self.type = type
        self.kind = kind
    }
}

/// The attributes every namespace has, as Temporal defines them
/// (`common/searchattribute/sadefs/constants.go`, see `shared/temporal/search_attributes.md`).
public enum AttributeCatalog {
    public static let system: [String: SearchAttributeType] = [
        "WorkflowId": .keyword,
        "RunId": .keyword,
        "WorkflowType": .keyword,
        "StartTime": .datetime,
        "ExecutionTime": .datetime,
        "CloseTime": .datetime,
        "ExecutionStatus": .keyword,
        "TaskQueue": .keyword,
        "HistoryLength": .int,
        "ExecutionDuration": .int,
        "StateTransitionCount": .int,
        "HistorySizeBytes": .int,
        "ParentWorkflowId": .keyword,
        "ParentRunId": .keyword,
        "RootWorkflowId": .keyword,
        "RootRunId": .keyword,
    ]

    /// Predefined attributes. All of them are accepted from the engine: the ones Temporal
    /// does not let SDKs set (TemporalWorkerDeployment, ...) are set by Temporal's server
    /// itself, and arrive through the same writes.
    public static let predefined: [String: SearchAttributeType] = [
        "TemporalChangeVersion": .keywordList,
        "BinaryChecksums": .keywordList,
        "BuildIds": .keywordList,
        "BatcherNamespace": .keyword,
        "BatcherUser": .keyword,
        "TemporalScheduledStartTime": .datetime,
        "TemporalScheduledById": .keyword,
        "TemporalSchedulePaused": .bool,
        "TemporalNamespaceDivision": .keyword,
        "TemporalPauseInfo": .keywordList,
        "TemporalReportedProblems": .keywordList,
        "TemporalWorkerDeploymentVersion": .keyword,
        "TemporalWorkflowVersioningBehavior": .keyword,
        "TemporalWorkerDeployment": .keyword,
        "TemporalUsedWorkerDeploymentVersions": .keywordList,
        "TemporalExternalPayloadCount": .int,
        "TemporalExternalPayloadSizeBytes": .int,
    ]

    /// Field names that are neither system nor predefined attributes but are taken.
    public static let reservedFieldNames: Set<String> = ["NamespaceId", "Memo", "MemoEncoding", "VisibilityTaskKey"]

    /// The definition of a system or predefined attribute with exactly this name.
    public static func builtIn(_ name: String) -> AttributeDefinition? {
        if let type = system[name] { return AttributeDefinition(name: name, type: type, kind: .system) }
        if let type = predefined[name] { return AttributeDefinition(name: name, type: type, kind: .predefined) }
        return nil
    }

    /// Names a namespace may not register: built-in and reserved names, and anything that
    /// starts with `Temporal` (Temporal's `sadefs.IsReserved`).
    public static func isReserved(_ name: String) -> Bool {
        builtIn(name) != nil || reservedFieldNames.contains(name) || name.hasPrefix("Temporal")
    }
}
