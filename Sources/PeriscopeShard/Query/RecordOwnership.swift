import PeriscopeModel

/// Which stored executions a read answers for, beyond its filter: a federated query asks
/// every region for only the executions whose newest version that region wrote, so that
/// each execution comes from one region. Checked on every record a read reads (the indexes
/// do not hold it), so a count with an ownership always reads records.
public struct RecordOwnership: Sendable {
    public let description: String
    private let owns: @Sendable (VisibilityRecord) -> Bool

    public init(_ description: String, owns: @escaping @Sendable (VisibilityRecord) -> Bool) {
        self.description = description
        self.owns = owns
    }

    public func contains(_ record: VisibilityRecord) -> Bool { owns(record) }
}
