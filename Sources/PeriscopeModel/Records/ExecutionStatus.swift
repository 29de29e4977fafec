/// A workflow execution's status: Temporal's `WorkflowExecutionStatus`, with its numbers.
public enum ExecutionStatus: Int32, Sendable, TemporalEnumName, CustomStringConvertible {
    case unspecified = 0
    case running = 1
    case completed = 2
    case failed = 3
    case canceled = 4
    case terminated = 5
    case continuedAsNew = 6
    case timedOut = 7
    case paused = 8

    /// The PascalCase name Temporal uses in queries and in GROUP BY results (`Running`).
    public var name: String {
        switch self {
        case .unspecified: "Unspecified"
        case .running: "Running"
        case .completed: "Completed"
        case .failed: "Failed"
        case .canceled: "Canceled"
        case .terminated: "Terminated"
        case .continuedAsNew: "ContinuedAsNew"
        case .timedOut: "TimedOut"
        case .paused: "Paused"
        }
    }

    /// The protobuf enum name, `WORKFLOW_EXECUTION_STATUS_RUNNING` and so on.
    public var protoName: String {
        switch self {
        case .continuedAsNew: "WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW"
        case .timedOut: "WORKFLOW_EXECUTION_STATUS_TIMED_OUT"
        default: "WORKFLOW_EXECUTION_STATUS_" + name.uppercased()
        }
    }

    /// Open executions have no close fields (Temporal hides them on read for these two).
    public var isOpen: Bool { self == .running || self == .paused }

    public var description: String { name }
}
