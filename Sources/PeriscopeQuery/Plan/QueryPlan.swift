import PeriscopeModel

/// A query in canonical form: what the shard planner takes, and what the in-memory oracle
/// evaluates. Two queries that mean the same thing in the ways the normalizer knows (see
/// `Normalizer`) have equal plans; `description` prints text that compiles back to it.
public struct QueryPlan: Sendable, Hashable, CustomStringConvertible {
    public let context: QueryContext
    /// The whole condition, the hidden division filter included; `.constant(true)` for none.
    public let filter: Predicate
    /// The sort keys as written (empty: Temporal's default order).
    public let orderBy: [SortKey]
    public let groupBy: QueryField?
    public let limits: QueryLimits

    init(_ query: Query) {
        context = query.context
        filter = query.effectiveFilter.map(Normalizer.normalize) ?? .constant(true)
        orderBy = query.orderBy
        groupBy = query.groupBy
        limits = query.limits
    }

    /// Whether `record` matches (three-valued: only `true` matches).
    public func matches(_ record: VisibilityRecord) -> Bool { filter.evaluate(record) == .true }

    // MARK: Text

    public var description: String {
        var parts: [String] = []
        let division = QueryField.namespaceDivision
        let namesDivision = filter.mentions(division) || groupBy == division || orderBy.contains { $0.field == division }
        switch filter {
        case .constant(true):
            if !namesDivision { parts.append(String(Query.anyDivision.dropFirst().dropLast())) }
        case .constant(false):
            parts.append(QueryPrinter.filterText(filter))
        default:
            let text = QueryPrinter.filterText(filter)
            // Without the division in the text, compiling it would add the hidden filter.
            parts.append(namesDivision ? text
                : "(\(text)) AND \(Query.anyDivision)")
        }
        if let groupBy { parts.append("GROUP BY \(QueryPrinter.name(groupBy))") }
        if !orderBy.isEmpty {
            parts.append("ORDER BY " + orderBy.map { QueryPrinter.name($0.field) + ($0.descending ? " DESC" : "") }
                .joined(separator: ", "))
        }
        return parts.joined(separator: " ")
    }

    // MARK: Order

    /// The complete order of a list: the sort keys (an absent value last, whatever the
    /// direction, as Elasticsearch sorts), then `RunId` and `WorkflowId` ascending so that
    /// no two executions tie. Without keys, Temporal's default: `CloseTime` descending with
    /// open executions first, `StartTime` descending, then `RunId` and `WorkflowId`.
    public var order: [OrderTerm] {
        var terms: [OrderTerm]
        if orderBy.isEmpty {
            terms = [OrderTerm(.closeTime, descending: true, absentFirst: true),
                     OrderTerm(.startTime, descending: true, absentFirst: false)]
        } else {
            terms = orderBy.map { OrderTerm($0.field, descending: $0.descending, absentFirst: false) }
        }
        for tieBreaker in [QueryField.runId, .workflowId] where !terms.contains(where: { $0.field == tieBreaker }) {
            terms.append(OrderTerm(tieBreaker, descending: false, absentFirst: false))
        }
        return terms
    }

    /// Whether `left` comes before `right` in this plan's list order.
    public func precedes(_ left: VisibilityRecord, _ right: VisibilityRecord) -> Bool {
        compareSortValues(sortValues(of: left), sortValues(of: right)) < 0
    }

    /// A record's values for each term of `order` (nil where it has none): its place in the
    /// list, and what a page cursor remembers.
    public func sortValues(of record: VisibilityRecord) -> [QueryValue?] {
        order.map { term in
            if case .scalar(let value)? = record.value(of: term.field) { return value }
            return nil
        }
    }

    /// -1, 0 or 1: how two records' `sortValues` compare in this plan's list order.
    public func compareSortValues(_ left: [QueryValue?], _ right: [QueryValue?]) -> Int {
        for (term, (a, b)) in zip(order, zip(left, right)) {
            switch (a, b) {
            case (nil, nil): continue
            case (nil, _): return term.absentFirst ? -1 : 1
            case (_, nil): return term.absentFirst ? 1 : -1
            case (let x?, let y?):
                guard let order = QueryValue.order(x, y), order != 0 else { continue }
                return term.descending ? -order : order
            }
        }
        return 0
    }
}

/// One level of a list's order.
public struct OrderTerm: Sendable, Hashable {
    public let field: QueryField
    public let descending: Bool
    /// Where executions without a value go.
    public let absentFirst: Bool

    public init(_ field: QueryField, descending: Bool, absentFirst: Bool) {
        self.field = field
        self.descending = descending
        self.absentFirst = absentFirst
    }
}

extension Predicate {
    func mentions(_ field: QueryField) -> Bool {
        switch self {
        case .and(let terms), .or(let terms): return terms.contains { $0.mentions(field) }
        case .not(let inner): return inner.mentions(field)
        case .constant: return false
        default: return leafField == field
        }
    }
}
