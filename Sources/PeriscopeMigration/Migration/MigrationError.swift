/// Why a migration command refused or stopped, worded for the operator: what was wrong and
/// where. Nothing was changed when a command refuses before it starts.
public enum MigrationError: Error, CustomStringConvertible, Equatable {
    /// The source is not Temporal's visibility table.
    case notTemporalSchema(String)
    /// The source's role cannot do what the step needs (REPLICATION, SELECT).
    case permission(String)
    /// A replication slot or publication of the migration's name exists already.
    case slotExists(String)
    /// The migration is not in a state that allows the command.
    case wrongPhase(String)
    /// A bad option or argument.
    case invalid(String)

    public var description: String {
        switch self {
        case .notTemporalSchema(let message): "the source is not Temporal's PostgreSQL visibility store: \(message)"
        case .permission(let message): "the source refused a permission the migration needs: \(message)"
        case .slotExists(let message): message
        case .wrongPhase(let message): message
        case .invalid(let message): message
        }
    }
}
