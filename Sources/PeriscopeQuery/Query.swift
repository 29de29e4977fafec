import PeriscopeModel

/// A List Filter query, parsed and checked against one namespace's schema: every name
/// resolved, every literal typed. `compile` is the only way to make one.
public struct Query: Sendable, Hashable {
    /// The text as given.
    public let text: String
    public let context: QueryContext
    /// The user's condition, typed, in the shape it was written; nil for none.
    public let filter: Predicate?
    /// True unless the query names `TemporalNamespaceDivision` (anywhere): then only
    /// executions without a division match, as in Temporal, which hides schedules' and
    /// other components' executions from ordinary lists and counts.
    public let hidesOtherDivisions: Bool
    /// Sort keys as written; empty for Temporal's default order.
    public let orderBy: [SortKey]
    /// Counts only.
    public let groupBy: QueryField?
    public let limits: QueryLimits

    /// A condition every execution meets and that names the division, so the hidden
    /// `TemporalNamespaceDivision IS NULL` is not added: AND it in to reach every division
    /// (Temporal's `sadefs.QueryWithAnyNamespaceDivision`).
    public static let anyDivision = "(TemporalNamespaceDivision IS NULL OR TemporalNamespaceDivision IS NOT NULL)"

    public static func compile(_ text: String, schema: NamespaceSchema, context: QueryContext,
                               limits: QueryLimits = .init()) throws(QueryError) -> Query {
        let trimmed = text.trimmingSpaces()
        let statement = try Parser.parse(trimmed, limits: limits)
        var validator = Validator(schema: schema, context: context, bytes: Array(trimmed.utf8))
        let checked = try validator.validate(statement)
        return Query(text: text, context: context, filter: checked.filter, hidesOtherDivisions: !validator.namesDivision,
                     orderBy: checked.orderBy, groupBy: checked.groupBy, limits: limits)
    }

    /// The condition executions must meet: the user's, and the hidden division filter.
    public var effectiveFilter: Predicate? {
        let division = Predicate.isNull(.namespaceDivision, negated: false)
        switch (filter, hidesOtherDivisions) {
        case (let filter?, true): return .and([filter, division])
        case (let filter?, false): return filter
        case (nil, true): return division
        case (nil, false): return nil
        }
    }

    /// Whether `record` matches, with SQL's three-valued logic (see `Predicate.evaluate`).
    public func matches(_ record: VisibilityRecord) -> Bool {
        effectiveFilter.map { $0.evaluate(record) == .true } ?? true
    }

    /// The canonical plan input: NOT pushed to the leaves, ranges merged, IN lists deduplicated.
    public var plan: QueryPlan { QueryPlan(self) }
}

extension String {
    /// Without leading and trailing whitespace (Go's `strings.TrimSpace` on ASCII space).
    func trimmingSpaces() -> String {
        let bytes = Array(utf8)
        guard let first = bytes.firstIndex(where: { !Lexer.isSpace($0) }) else { return "" }
        let last = bytes.lastIndex(where: { !Lexer.isSpace($0) })!
        return String(decoding: bytes[first...last], as: UTF8.self)
    }
}
