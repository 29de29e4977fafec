import PeriscopeModel

/// SQL's three-valued logic. A comparison with an attribute the record does not have is
/// `unknown`, and only `true` matches: so `X != 'a'` and `X NOT IN (…)` do not match records
/// without X, and neither does `NOT (X = 'a')`. This is Temporal's SQL stores' behaviour
/// (Elasticsearch differs: its `must_not` matches documents missing the field).
public enum Truth: Sendable, Equatable {
    case `true`, `false`, unknown

    init(_ flag: Bool) { self = flag ? .true : .false }

    var negated: Truth {
        switch self {
        case .true: .false
        case .false: .true
        case .unknown: .unknown
        }
    }
}

extension Predicate {
    /// The predicate's truth for one record: the in-memory oracle that index-served plans
    /// are tested against.
    public func evaluate(_ record: VisibilityRecord) -> Truth {
        switch self {
        case .and(let terms):
            var result = Truth.true
            for term in terms {
                switch term.evaluate(record) {
                case .false: return .false
                case .unknown: result = .unknown
                case .true: break
                }
            }
            return result
        case .or(let terms):
            var result = Truth.false
            for term in terms {
                switch term.evaluate(record) {
                case .true: return .true
                case .unknown: result = .unknown
                case .false: break
                }
            }
            return result
        case .not(let inner):
            return inner.evaluate(record).negated
        case .constant(let flag):
            return Truth(flag)
        case .isNull(let field, let negated):
            return Truth((record.value(of: field) == nil) != negated)
        case .compare(let field, let op, let value):
            guard let stored = record.value(of: field) else { return .unknown }
            return Self.compare(stored, op, value)
        case .oneOf(let field, let values, let negated):
            guard let stored = record.value(of: field) else { return .unknown }
            var found = Truth.false
            for value in values {
                switch Self.compare(stored, .equal, value) {
                case .true: found = .true
                case .unknown where found == .false: found = .unknown
                default: break
                }
                if found == .true { break }
            }
            return negated ? found.negated : found
        case .between(let field, let low, let high, let negated):
            guard case .scalar(let stored)? = record.value(of: field),
                  let aboveLow = QueryValue.order(stored, low), let belowHigh = QueryValue.order(stored, high)
            else { return .unknown }
            return Truth((aboveLow >= 0 && belowHigh <= 0) != negated)
        case .range(let field, let lower, let upper):
            guard case .scalar(let stored)? = record.value(of: field) else { return .unknown }
            if let lower {
                guard let order = QueryValue.order(stored, lower.value) else { return .unknown }
                if order < 0 || (order == 0 && !lower.inclusive) { return .false }
            }
            if let upper {
                guard let order = QueryValue.order(stored, upper.value) else { return .unknown }
                if order > 0 || (order == 0 && !upper.inclusive) { return .false }
            }
            return .true
        case .startsWith(let field, let prefix, let negated):
            guard case .scalar(.string(let stored))? = record.value(of: field) else { return .unknown }
            return Truth(stored.utf8.starts(with: prefix.utf8) != negated)
        }
    }

    private static func compare(_ stored: RecordValue, _ op: ComparisonOperator, _ value: QueryValue) -> Truth {
        switch stored {
        case .list(let items):
            guard case .string(let wanted) = value else { return .unknown }
            let contains = items.contains { $0.utf8.elementsEqual(wanted.utf8) }
            return op == .equal ? Truth(contains) : op == .notEqual ? Truth(!contains) : .unknown
        case .text(let text):
            guard case .string(let wanted) = value else { return .unknown }
            // Tokens compare by bytes, as keywords do (and as the index stores them).
            let tokens = Set(TextTokens.tokens(text).map { Array($0.utf8) })
            let matches = TextTokens.tokens(wanted).contains { tokens.contains(Array($0.utf8)) }
            return op == .equal ? Truth(matches) : op == .notEqual ? Truth(!matches) : .unknown
        case .scalar(let stored):
            guard let order = QueryValue.order(stored, value) else { return .unknown }
            switch op {
            case .equal: return Truth(order == 0)
            case .notEqual: return Truth(order != 0)
            case .less: return Truth(order < 0)
            case .lessOrEqual: return Truth(order <= 0)
            case .greater: return Truth(order > 0)
            case .greaterOrEqual: return Truth(order >= 0)
            }
        }
    }
}
