/// A typed search-attribute value.
public enum SearchAttributeValue: Hashable, Sendable, CustomStringConvertible {
    case keyword(String)
    case keywordList([String])
    case text(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case datetime(Timestamp)

    public var type: SearchAttributeType {
        switch self {
        case .keyword: .keyword
        case .keywordList: .keywordList
        case .text: .text
        case .int: .int
        case .double: .double
        case .bool: .bool
        case .datetime: .datetime
        }
    }

    /// The value as it appears in an error: JSON-like, quoted strings, RFC 3339 datetimes.
    public var description: String {
        switch self {
        case .keyword(let string), .text(let string): "\"\(string)\""
        case .keywordList(let strings): "[" + strings.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        case .int(let number): String(number)
        case .double(let number): String(number)
        case .bool(let flag): String(flag)
        case .datetime(let time): "\"\(time.rfc3339)\""
        }
    }

    /// A value that means "no value": Temporal removes an attribute upserted to it.
    public var isEmpty: Bool {
        if case .keywordList(let list) = self { return list.isEmpty }
        return false
    }
}
