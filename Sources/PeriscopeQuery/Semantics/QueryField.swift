import PeriscopeModel

/// A resolved attribute as a query uses it: its canonical name, type and kind.
public struct QueryField: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public let type: SearchAttributeType
    public let kind: AttributeKind

    public init(_ definition: AttributeDefinition) {
        name = definition.name
        type = definition.type
        kind = definition.kind
    }

    /// `ExecutionStatus`: a Keyword to Temporal, but compared as the enum's number (as SQL
    /// stores do), written by name or number.
    public var isExecutionStatus: Bool { kind == .system && name == "ExecutionStatus" }
    /// `ExecutionDuration`: an Int of nanoseconds that also takes duration strings.
    public var isExecutionDuration: Bool { kind == .system && name == "ExecutionDuration" }
    /// Types with a total order: usable in ranges and ORDER BY.
    public var isSortable: Bool { type.isSortable }
    /// Types where `=` means one whole value (not "contains" or "token match").
    public var isScalar: Bool { type != .keywordList && type != .text }

    public static let namespaceDivision = QueryField(AttributeCatalog.builtIn("TemporalNamespaceDivision")!)
    public static let workflowId = QueryField(AttributeCatalog.builtIn("WorkflowId")!)
    public static let runId = QueryField(AttributeCatalog.builtIn("RunId")!)
    public static let startTime = QueryField(AttributeCatalog.builtIn("StartTime")!)
    public static let closeTime = QueryField(AttributeCatalog.builtIn("CloseTime")!)

    public var description: String { name }
}

/// A typed literal.
public enum QueryValue: Hashable, Sendable {
    /// Keyword, KeywordList and Text values.
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case datetime(Timestamp)
    case status(ExecutionStatus)
}

public enum ComparisonOperator: String, Hashable, Sendable {
    case equal = "="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="

    /// The operator that holds exactly when this one is false (for non-NULL values).
    public var negated: ComparisonOperator {
        switch self {
        case .equal: .notEqual
        case .notEqual: .equal
        case .less: .greaterOrEqual
        case .lessOrEqual: .greater
        case .greater: .lessOrEqual
        case .greaterOrEqual: .less
        }
    }
}

/// One end of a range.
public struct RangeBound: Hashable, Sendable {
    public var value: QueryValue
    public var inclusive: Bool

    public init(_ value: QueryValue, inclusive: Bool) {
        self.value = value
        self.inclusive = inclusive
    }
}

/// A typed condition. The validator produces every case but `range` and `constant`; the
/// normalizer produces no `not`, `compare` only for Text, `oneOf` for every equality and
/// `range` for every order comparison (see `QueryPlan`).
public indirect enum Predicate: Hashable, Sendable {
    case and([Predicate])
    case or([Predicate])
    case not(Predicate)
    case compare(QueryField, ComparisonOperator, QueryValue)
    /// `IN` / `NOT IN`; for KeywordList "contains any" / "contains none".
    case oneOf(QueryField, [QueryValue], negated: Bool)
    case between(QueryField, QueryValue, QueryValue, negated: Bool)
    case startsWith(QueryField, String, negated: Bool)
    case isNull(QueryField, negated: Bool)
    /// `lower <(=) field <(=) upper`; at least one bound.
    case range(QueryField, lower: RangeBound?, upper: RangeBound?)
    case constant(Bool)
}

public struct SortKey: Hashable, Sendable {
    public let field: QueryField
    public let descending: Bool

    public init(_ field: QueryField, descending: Bool) {
        self.field = field
        self.descending = descending
    }
}

/// Which call a query is for: lists page through executions, counts may group.
public enum QueryContext: Sendable, Hashable {
    case list
    case count
}
