/// One thing wrong with a record or a schema change, naming the field or attribute.
///
/// Messages use Temporal's wording where Temporal has one, so errors read the same whichever
/// store a user came from.
public struct ValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        case undefinedAttribute
        case systemAttributeInMap
        case wrongType(expected: SearchAttributeType, actual: SearchAttributeType)
        case invalidValue
        case valueTooLarge(bytes: Int, limit: Int)
        case tooManyAttributes(count: Int, limit: Int)
        case attributesTooLarge(bytes: Int, limit: Int)
        case emptyField
        case fieldTooLong(bytes: Int, limit: Int)
        case negativeField
        case reservedName
        case invalidName
        case attributeExists(type: SearchAttributeType)
        case tooManyCustomAttributes(limit: Int)
    }

    /// The attribute or record field at fault (`CustomerId`, `WorkflowId`, `SearchAttributes`).
    public let field: String
    public let reason: Reason
    public let message: String

    public var description: String { message }
}

/// Every problem found in one record, in a stable order.
public struct RecordValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let key: ExecutionKey
    public let problems: [ValidationError]

    public var description: String {
        "invalid visibility record \(key): " + problems.map(\.message).joined(separator: "; ")
    }
}
