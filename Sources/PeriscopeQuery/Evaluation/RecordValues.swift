import PeriscopeModel

/// An attribute's value in one record, as the evaluator sees it.
enum RecordValue {
    case scalar(QueryValue)
    case list([String])
    case text(String)
}

extension VisibilityRecord {
    /// The value of `field`, or nil when the record has none (SQL's NULL). A stored value
    /// whose type differs from the field's (an attribute re-registered with another type)
    /// also counts as none.
    func value(of field: QueryField) -> RecordValue? {
        if field.kind == .system {
            switch field.name {
            case "WorkflowId": return .scalar(.string(key.workflowId))
            case "RunId": return .scalar(.string(key.runId))
            case "WorkflowType": return .scalar(.string(workflowType))
            case "TaskQueue": return .scalar(.string(taskQueue))
            case "ExecutionStatus": return .scalar(.status(status))
            case "StartTime": return .scalar(.datetime(startTime))
            case "ExecutionTime": return .scalar(.datetime(executionTime))
            case "CloseTime": return closeTime.map { .scalar(.datetime($0)) }
            case "ExecutionDuration": return executionDuration.map { .scalar(.int($0)) }
            case "HistoryLength": return historyLength.map { .scalar(.int($0)) }
            case "HistorySizeBytes": return historySizeBytes.map { .scalar(.int($0)) }
            case "StateTransitionCount": return stateTransitionCount.map { .scalar(.int($0)) }
            case "ParentWorkflowId": return parentWorkflowId.map { .scalar(.string($0)) }
            case "ParentRunId": return parentRunId.map { .scalar(.string($0)) }
            case "RootWorkflowId": return .scalar(.string(rootWorkflowId))
            case "RootRunId": return .scalar(.string(rootRunId))
            default: return nil
            }
        }
        guard let stored = searchAttributes[field.name], stored.type == field.type else { return nil }
        switch stored {
        case .keyword(let string): return .scalar(.string(string))
        case .keywordList(let strings): return strings.isEmpty ? nil : .list(strings)
        case .text(let string): return .text(string)
        case .int(let number): return .scalar(.int(number))
        case .double(let number): return .scalar(.double(number))
        case .bool(let flag): return .scalar(.bool(flag))
        case .datetime(let time): return .scalar(.datetime(time))
        }
    }
}
