/// Rewrites a typed predicate into its canonical form, which means the same thing for
/// every record (under three-valued logic, as far as what matches):
/// - NOT is pushed down to the leaves (De Morgan; each leaf has an exact negation);
/// - equality on a Keyword, number, datetime, Bool or status, and every IN, becomes `oneOf`;
///   every order comparison and BETWEEN becomes `range`; KeywordList `=` becomes `oneOf`
///   ("contains"); only Text keeps `compare`;
/// - nested AND/OR are flattened; within an AND the constraints on one scalar attribute are
///   merged (ranges intersected, IN sets intersected, excluded values folded in, empty
///   results become `false`); within an OR, IN sets on one attribute are united;
/// - constants are folded, duplicates dropped, and terms and IN values sorted, so two
///   queries that differ only in those respects have equal plans.
enum Normalizer {
    static func normalize(_ predicate: Predicate) -> Predicate {
        simplify(pushNot(predicate, negate: false))
    }

    // MARK: NOT push-down

    private static func pushNot(_ predicate: Predicate, negate: Bool) -> Predicate {
        switch predicate {
        case .and(let terms):
            let pushed = terms.map { pushNot($0, negate: negate) }
            return negate ? .or(pushed) : .and(pushed)
        case .or(let terms):
            let pushed = terms.map { pushNot($0, negate: negate) }
            return negate ? .and(pushed) : .or(pushed)
        case .not(let inner):
            return pushNot(inner, negate: !negate)
        case .constant(let flag):
            return .constant(flag != negate)
        case .compare(let field, let op, let value):
            let effective = negate ? op.negated : op
            if field.type == .text { return .compare(field, effective, value) }
            switch effective {
            case .equal: return .oneOf(field, [value], negated: false)
            case .notEqual: return .oneOf(field, [value], negated: true)
            case .less: return .range(field, lower: nil, upper: RangeBound(value, inclusive: false))
            case .lessOrEqual: return .range(field, lower: nil, upper: RangeBound(value, inclusive: true))
            case .greater: return .range(field, lower: RangeBound(value, inclusive: false), upper: nil)
            case .greaterOrEqual: return .range(field, lower: RangeBound(value, inclusive: true), upper: nil)
            }
        case .oneOf(let field, let values, let negated):
            return .oneOf(field, values, negated: negated != negate)
        case .between(let field, let low, let high, let negated):
            let range = Predicate.range(field, lower: RangeBound(low, inclusive: true), upper: RangeBound(high, inclusive: true))
            return negated != negate ? pushNot(range, negate: true) : range
        case .range(let field, let lower, let upper):
            guard negate else { return predicate }
            var outside: [Predicate] = []
            if let lower { outside.append(.range(field, lower: nil, upper: RangeBound(lower.value, inclusive: !lower.inclusive))) }
            if let upper { outside.append(.range(field, lower: RangeBound(upper.value, inclusive: !upper.inclusive), upper: nil)) }
            return outside.count == 1 ? outside[0] : .or(outside)
        case .startsWith(let field, let prefix, let negated):
            return .startsWith(field, prefix, negated: negated != negate)
        case .isNull(let field, let negated):
            return .isNull(field, negated: negated != negate)
        }
    }

    // MARK: Simplification (bottom-up; the input has no NOT)

    private static func simplify(_ predicate: Predicate) -> Predicate {
        switch predicate {
        case .and(let terms): return conjunction(terms.map(simplify))
        case .or(let terms): return disjunction(terms.map(simplify))
        case .oneOf(let field, let values, let negated): return .oneOf(field, sortedUnique(values), negated: negated)
        case .range(let field, let lower, let upper): return mergeScalar(field, [.range(field, lower: lower, upper: upper)])
        default: return predicate
        }
    }

    private static func conjunction(_ terms: [Predicate]) -> Predicate {
        var flat: [Predicate] = []
        for term in terms {
            switch term {
            case .constant(false): return .constant(false)
            case .constant(true): continue
            case .and(let inner): flat += inner
            default: flat.append(term)
            }
        }
        // Group leaves by the attribute they constrain.
        var byField: [QueryField: [Predicate]] = [:]
        var fieldOrder: [QueryField] = []
        var others: [Predicate] = []
        for term in flat {
            guard let field = term.leafField else { others.append(term); continue }
            if byField[field] == nil { fieldOrder.append(field) }
            byField[field, default: []].append(term)
        }
        var result = others
        for field in fieldOrder {
            let leaves = byField[field]!
            let nullChecks = leaves.compactMap { leaf -> Bool? in
                if case .isNull(_, let negated) = leaf { return negated }
                return nil
            }
            let constraints = leaves.filter { if case .isNull = $0 { return false } else { return true } }
            // IS NULL with anything else on the attribute (which all need a value) is empty.
            if nullChecks.contains(false), !constraints.isEmpty || nullChecks.contains(true) { return .constant(false) }
            if constraints.isEmpty {
                result.append(.isNull(field, negated: nullChecks.contains(false) ? false : true))
                continue
            }
            // Any constraint implies IS NOT NULL, so that check is dropped.
            if field.isScalar {
                let merged = mergeScalar(field, constraints)
                if merged == .constant(false) { return merged }
                if case .and(let parts) = merged { result += parts } else { result.append(merged) }
            } else {
                result += constraints
            }
        }
        let unique = sortedUniqueTerms(result)
        if unique.isEmpty { return .constant(true) }
        return unique.count == 1 ? unique[0] : .and(unique)
    }

    private static func disjunction(_ terms: [Predicate]) -> Predicate {
        var flat: [Predicate] = []
        for term in terms {
            switch term {
            case .constant(true): return .constant(true)
            case .constant(false): continue
            case .or(let inner): flat += inner
            default: flat.append(term)
            }
        }
        var result: [Predicate] = []
        var united: [QueryField: [QueryValue]] = [:]
        var unitedOrder: [QueryField] = []
        var nullChecks: [QueryField: Set<Bool>] = [:]
        for term in flat {
            switch term {
            case .oneOf(let field, let values, negated: false):
                if united[field] == nil { unitedOrder.append(field) }
                united[field, default: []] += values
            case .isNull(let field, let negated):
                nullChecks[field, default: []].insert(negated)
                result.append(term)
            default:
                result.append(term)
            }
        }
        // X IS NULL OR X IS NOT NULL holds for every record.
        if nullChecks.values.contains(where: { $0.count == 2 }) { return .constant(true) }
        for field in unitedOrder { result.append(.oneOf(field, sortedUnique(united[field]!), negated: false)) }
        let unique = sortedUniqueTerms(result)
        if unique.isEmpty { return .constant(false) }
        return unique.count == 1 ? unique[0] : .or(unique)
    }

    /// The conjunction of constraints on one scalar attribute, as at most one `oneOf` (when a
    /// finite set is known), or a `range` and a negated `oneOf`; `false` when none can hold.
    private static func mergeScalar(_ field: QueryField, _ constraints: [Predicate]) -> Predicate {
        var lower: RangeBound?
        var upper: RangeBound?
        var allowed: [QueryValue]?
        var excluded: [QueryValue] = []
        var rest: [Predicate] = []
        for constraint in constraints {
            switch constraint {
            case .range(_, let low, let high):
                if let low { lower = tighterLower(lower, low) }
                if let high { upper = tighterUpper(upper, high) }
            case .oneOf(_, let values, let negated):
                if negated {
                    excluded += values
                } else {
                    let set = sortedUnique(values)
                    allowed = allowed.map { current in current.filter { value in set.contains { QueryValue.order($0, value) == 0 } } } ?? set
                }
            default:
                rest.append(constraint)
            }
        }
        func inRange(_ value: QueryValue) -> Bool {
            if let lower, let order = QueryValue.order(value, lower.value), order < 0 || (order == 0 && !lower.inclusive) { return false }
            if let upper, let order = QueryValue.order(value, upper.value), order > 0 || (order == 0 && !upper.inclusive) { return false }
            return true
        }
        func isExcluded(_ value: QueryValue) -> Bool { excluded.contains { QueryValue.order($0, value) == 0 } }

        // A single point range is a one-value set.
        if allowed == nil, let lower, let upper, lower.inclusive, upper.inclusive, QueryValue.order(lower.value, upper.value) == 0 {
            allowed = [lower.value]
        }
        var parts: [Predicate] = []
        if let allowed {
            let remaining = sortedUnique(allowed.filter { inRange($0) && !isExcluded($0) })
            if remaining.isEmpty { return .constant(false) }
            parts.append(.oneOf(field, remaining, negated: false))
        } else {
            if let lower, let upper, let order = QueryValue.order(lower.value, upper.value),
               order > 0 || (order == 0 && !(lower.inclusive && upper.inclusive)) {
                return .constant(false)
            }
            if lower != nil || upper != nil { parts.append(.range(field, lower: lower, upper: upper)) }
            let stillExcluded = sortedUnique(excluded.filter(inRange))
            if !stillExcluded.isEmpty { parts.append(.oneOf(field, stillExcluded, negated: true)) }
        }
        parts += rest
        if parts.isEmpty { return .constant(true) }
        return parts.count == 1 ? parts[0] : .and(parts)
    }

    private static func tighterLower(_ current: RangeBound?, _ candidate: RangeBound) -> RangeBound {
        guard let current, let order = QueryValue.order(candidate.value, current.value) else { return candidate }
        if order != 0 { return order > 0 ? candidate : current }
        return RangeBound(current.value, inclusive: current.inclusive && candidate.inclusive)
    }

    private static func tighterUpper(_ current: RangeBound?, _ candidate: RangeBound) -> RangeBound {
        guard let current, let order = QueryValue.order(candidate.value, current.value) else { return candidate }
        if order != 0 { return order < 0 ? candidate : current }
        return RangeBound(current.value, inclusive: current.inclusive && candidate.inclusive)
    }

    // MARK: Canonical order

    static func sortedUnique(_ values: [QueryValue]) -> [QueryValue] {
        var result: [QueryValue] = []
        for value in values.sorted(by: QueryValue.isLess) where !result.contains(where: { QueryValue.order($0, value) == 0 }) {
            result.append(value)
        }
        return result
    }

    private static func sortedUniqueTerms(_ terms: [Predicate]) -> [Predicate] {
        var seen: Set<String> = []
        return terms.map { (QueryPrinter.filterText($0), $0) }
            .sorted { $0.0 < $1.0 }
            .compactMap { seen.insert($0.0).inserted ? $0.1 : nil }
    }
}

extension Predicate {
    /// The attribute a leaf constrains; nil for AND, OR, NOT and constants.
    var leafField: QueryField? {
        switch self {
        case .compare(let field, _, _), .oneOf(let field, _, _), .between(let field, _, _, _),
             .startsWith(let field, _, _), .isNull(let field, _), .range(let field, _, _):
            return field
        case .and, .or, .not, .constant:
            return nil
        }
    }
}
