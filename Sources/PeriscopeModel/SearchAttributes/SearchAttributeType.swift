/// The type of a search attribute: Temporal's `IndexedValueType`, with its numbers and names.
public enum SearchAttributeType: Int, Sendable, TemporalEnumName, CustomStringConvertible {
    case text = 1
    case keyword = 2
    case int = 3
    case double = 4
    case bool = 5
    case datetime = 6
    case keywordList = 7

    /// The name Temporal prints in errors and accepts in configuration (`Keyword`, `Int`, ...).
    public var name: String {
        switch self {
        case .text: "Text"
        case .keyword: "Keyword"
        case .int: "Int"
        case .double: "Double"
        case .bool: "Bool"
        case .datetime: "Datetime"
        case .keywordList: "KeywordList"
        }
    }

    /// The protobuf enum name, `INDEXED_VALUE_TYPE_KEYWORD` and so on.
    public var protoName: String {
        switch self {
        case .keywordList: "INDEXED_VALUE_TYPE_KEYWORD_LIST"
        default: "INDEXED_VALUE_TYPE_" + name.uppercased()
        }
    }

    public var description: String { name }

    /// Whether values of this type have an order (usable in ORDER BY and range predicates).
    public var isSortable: Bool { self != .text && self != .keywordList }
}
