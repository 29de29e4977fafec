import PeriscopeModel
import PeriscopeQuery
import PeriscopeStorage

/// Chooses an access path for a normalized filter (`QueryPlan.filter`), node by node:
/// - equality and IN on keyword-like fields (system keywords, ExecutionStatus, Keyword,
///   KeywordList, Bool) → term postings, united; Text `=` → its tokens' postings, united;
/// - WorkflowId IN (…) → point lookups in the locator;
/// - ranges, STARTS_WITH and equality on numbers and datetimes → the value (or term) index
///   read by value and sorted (bounded);
/// - IS NULL, NOT IN, NOT STARTS_WITH → the field's presence subtracted or intersected;
/// - AND → the intersection of its usable children, cheapest first; children with no path,
///   or too large to materialize, are checked on the records instead;
/// - OR → the union, if every child has a path;
/// - nothing usable → the time index, over the partitions the filter allows.
/// A path is `exact` when it decides the filter alone, so counts need no records.
extension QueryReader {
    /// The plan of a whole query's filter: its path, or the time index with every record
    /// checked when no index helps.
    func planQuery(_ filter: Predicate) throws -> PlannedPath {
        try plan(filter) ?? PlannedPath(path: .scan, exact: false, estimate: PlannedPath.scanEstimate)
    }

    func plan(_ predicate: Predicate) throws -> PlannedPath? {
        guard !limits.disabled.contains(.everyIndex) else { return nil }
        switch predicate {
        case .constant(let flag):
            return flag ? PlannedPath(path: .scan, exact: true, estimate: PlannedPath.scanEstimate)
                : PlannedPath(path: .empty, exact: true, estimate: 0)
        case .and(let terms): return try planAnd(terms)
        case .or(let terms): return try planOr(terms)
        case .not: return nil  // normalized plans have none
        case .oneOf(let field, let values, let negated):
            guard let positive = try planEquality(field, values) else { return nil }
            return negated ? try subtractFromPresence(field, positive) : positive
        case .compare(let field, let op, let value):
            guard field.type == .text, op == .equal, case .string(let text) = value, !limits.disabled.contains(.terms) else { return nil }
            let tokens = IndexEntries.distinctByBytes(TextTokens.tokens(text))
            guard !tokens.isEmpty else { return PlannedPath(path: .empty, exact: true, estimate: 0) }
            return try unionOfTerms(field, tokens.map { .string($0) })
        case .range(let field, let lower, let upper):
            return try planRange(field, lower: lower, upper: upper)
        case .between:
            return nil  // normalized into ranges
        case .startsWith(let field, let prefix, let negated):
            guard field.type == .keyword, !field.isExecutionStatus, !limits.disabled.contains(.terms) else { return nil }
            var start = KeyEncoder()
            start.append(.string(field.name))
            start.append(.int(Int64(field.type.rawValue)))
            start.appendStringPrefix(prefix)
            guard let end = KeyRange.prefixSuccessor(start.bytes),
                  let positions = try collect(.terms, from: start.bytes, to: end) else { return nil }
            let positive = PlannedPath(path: .positions("terms \(field.name) STARTS_WITH '\(prefix)'", positions), exact: true,
                                       estimate: positions.count)
            return negated ? try subtractFromPresence(field, positive) : positive
        case .isNull(let field, let negated):
            if IndexedField.alwaysPresent.contains(field.name), field.kind == .system {
                return negated ? PlannedPath(path: .scan, exact: true, estimate: PlannedPath.scanEstimate)
                    : PlannedPath(path: .empty, exact: true, estimate: 0)
            }
            guard let presence = try presence(of: field) else { return nil }
            if negated { return presence }
            if case .positions(_, let positions) = presence.path, positions.isEmpty {
                return PlannedPath(path: .scan, exact: presence.exact, estimate: PlannedPath.scanEstimate)
            }
            return PlannedPath(path: .difference(.scan, minus: presence.path), exact: presence.exact, estimate: PlannedPath.scanEstimate)
        }
    }

    // MARK: Combinations

    private func planAnd(_ terms: [Predicate]) throws -> PlannedPath? {
        var positives: [PlannedPath] = []
        var exclusions: [AccessPath] = []
        var exact = true
        for term in terms {
            guard let planned = try plan(term) else {
                exact = false
                continue
            }
            exact = exact && planned.exact
            switch planned.path {
            case .scan: continue  // true for every position: adds nothing
            case .empty: return PlannedPath(path: .empty, exact: true, estimate: 0)
            case .difference(.scan, let excluded): exclusions.append(excluded)
            default: positives.append(planned)
            }
        }
        if positives.count > 1 {
            // Order the intersection: the smallest drives, the others are sought in.
            for index in positives.indices where positives[index].estimate == nil {
                positives[index].estimate = try probe(positives[index].path)
            }
            positives.sort { $0.estimate! < $1.estimate! }
        }
        var path: AccessPath
        var estimate: Int?
        switch positives.count {
        case 0: (path, estimate) = (.scan, PlannedPath.scanEstimate)
        case 1: (path, estimate) = (positives[0].path, positives[0].estimate)
        default: (path, estimate) = (.intersect(positives.map(\.path)), positives[0].estimate)
        }
        // An exclusion found empty while planning (the usual hidden division filter)
        // excludes nothing.
        exclusions.removeAll { if case .positions(_, let positions) = $0 { return positions.isEmpty } else { return false } }
        if !exclusions.isEmpty {
            path = .difference(path, minus: exclusions.count == 1 ? exclusions[0] : .union(exclusions))
        }
        return PlannedPath(path: path, exact: exact, estimate: estimate)
    }

    private func planOr(_ terms: [Predicate]) throws -> PlannedPath? {
        var children: [PlannedPath] = []
        for term in terms {
            guard let planned = try plan(term) else { return nil }
            if case .scan = planned.path { return planned }
            if case .empty = planned.path { continue }
            children.append(planned)
        }
        guard !children.isEmpty else { return PlannedPath(path: .empty, exact: true, estimate: 0) }
        if children.count == 1 { return children[0] }
        let estimate = children.reduce(Optional(0)) { total, child in
            guard let total, let estimate = child.estimate else { return nil }
            return min(PlannedPath.scanEstimate, total + estimate)
        }
        return PlannedPath(path: .union(children.map(\.path)), exact: children.allSatisfy(\.exact), estimate: estimate)
    }

    // MARK: Leaves

    private func planEquality(_ field: QueryField, _ values: [QueryValue]) throws -> PlannedPath? {
        if field.kind == .system, field.name == "WorkflowId", !limits.disabled.contains(.lookup) {
            return try lookup(workflowIds: values)
        }
        if IndexedField.isTermField(field) {
            guard !limits.disabled.contains(.terms) else { return nil }
            var elements: [TupleElement] = []
            for value in values {
                guard let (element, rounded) = IndexedField.element(value, for: field, rounding: .down) else { return nil }
                if !rounded { elements.append(element) }  // a rounded value equals nothing stored
            }
            return elements.isEmpty ? PlannedPath(path: .empty, exact: true, estimate: 0) : try unionOfTerms(field, elements)
        }
        guard IndexedField.isValueField(field) else { return nil }
        var children: [PlannedPath] = []
        for value in values {
            guard let planned = try planRange(field, lower: RangeBound(value, inclusive: true), upper: RangeBound(value, inclusive: true))
            else { return nil }
            children.append(planned)
        }
        return children.count == 1 ? children[0]
            : PlannedPath(path: .union(children.map(\.path)), exact: children.allSatisfy(\.exact),
                          estimate: children.reduce(Optional(0)) { total, child in child.estimate.flatMap { total.map($0.advanced(by:)) } })
    }

    private func unionOfTerms(_ field: QueryField, _ elements: [TupleElement]) throws -> PlannedPath {
        let paths = elements.map { AccessPath.term(field: field.name, type: field.type, value: $0) }
        return PlannedPath(path: paths.count == 1 ? paths[0] : .union(paths), exact: true, estimate: nil)
    }

    /// Positions a path yields, at most about `probeMax` per term.
    func probe(_ path: AccessPath) throws -> Int {
        switch path {
        case .scan: return PlannedPath.scanEstimate
        case .empty: return 0
        case .term(let field, let type, let value): return try estimate(field: field, type: type, value: value)
        case .positions(_, let positions): return positions.count
        case .union(let paths): return try paths.reduce(0) { min(PlannedPath.scanEstimate, $0 + (try probe($1))) }
        case .intersect(let paths): return try paths.map(probe).min() ?? 0
        case .difference(let base, _): return try probe(base)
        }
    }

    private func planRange(_ field: QueryField, lower: RangeBound?, upper: RangeBound?) throws -> PlannedPath? {
        let family: ShardColumnFamily
        if IndexedField.isValueField(field) {
            guard !limits.disabled.contains(.values) else { return nil }
            family = .values
        } else if IndexedField.isTermField(field), field.isSortable {
            guard !limits.disabled.contains(.terms) else { return nil }
            family = .terms
        } else {
            return nil
        }
        let fieldPrefix = Self.middle(field: field.name, type: field.type, value: nil)
        // Bounds in the field's stored type; a bound rounded to an integer (an Int field
        // against 1.5) becomes inclusive, which keeps the range exact.
        var start = fieldPrefix
        var end = KeyRange.prefixSuccessor(fieldPrefix)!
        if let lower {
            guard let (element, rounded) = IndexedField.element(lower.value, for: field, rounding: .up) else { return nil }
            let bound = fieldPrefix + KeyEncoder.encode([element])
            start = lower.inclusive || rounded ? bound : KeyRange.prefixSuccessor(bound)!
        }
        if let upper {
            guard let (element, rounded) = IndexedField.element(upper.value, for: field, rounding: .down) else { return nil }
            let bound = fieldPrefix + KeyEncoder.encode([element])
            end = upper.inclusive || rounded ? KeyRange.prefixSuccessor(bound)! : bound
        }
        guard start.lexicographicallyPrecedes(end) else { return PlannedPath(path: .empty, exact: true, estimate: 0) }
        guard let positions = try collect(family, from: start, to: end) else { return nil }
        return PlannedPath(path: .positions("\(family.rawValue) \(field.name) range", positions), exact: true,
                           estimate: positions.count)
    }

    /// Every execution that has a value for `field`: all its postings, in either index.
    /// Text is not covered (a Text value without tokens has no posting).
    private func presence(of field: QueryField) throws -> PlannedPath? {
        guard !limits.disabled.contains(.presence), field.type != .text else { return nil }
        let family: ShardColumnFamily
        if IndexedField.isValueField(field) { family = .values } else if IndexedField.isTermField(field) { family = .terms } else { return nil }
        let fieldPrefix = Self.middle(field: field.name, type: field.type, value: nil)
        guard let positions = try collect(family, from: fieldPrefix, to: KeyRange.prefixSuccessor(fieldPrefix)!) else { return nil }
        let unique = Array(Set(positions))
        return PlannedPath(path: .positions("\(family.rawValue) \(field.name) present", unique), exact: true, estimate: unique.count)
    }

    private func subtractFromPresence(_ field: QueryField, _ positive: PlannedPath) throws -> PlannedPath? {
        guard let presence = try presence(of: field) else { return nil }
        return PlannedPath(path: .difference(presence.path, minus: positive.path), exact: presence.exact && positive.exact,
                           estimate: presence.estimate)
    }

    /// WorkflowId IN (…): the locator's runs of each id, placed by their records as of the
    /// watermark (the state every index path describes).
    private func lookup(workflowIds values: [QueryValue]) throws -> PlannedPath? {
        var positions: [Position] = []
        let scheme = shard.configuration.partitionScheme
        for case .string(let workflowId) in values {
            let prefix = KeyEncoder.encode([.string(namespaceId), .string(workflowId)])
            let keys: [[UInt8]] = try shard.database.scan(in: shard.family(.locator), range: .prefix(prefix), options: options) {
                Array($0.map(\.key))
            }
            for key in keys {
                try planningBudget.charge()
                let execution = try Shard.executionKey(fromLocator: key)
                guard let record = try shard.state(of: execution, asOf: watermark, options: options) else { continue }
                let partition = scheme.partition(of: record)
                let bytes = ShardKeys.time(record, partition)
                guard partitions.contains(where: { bytes.dropFirst(namespacePrefix.count).starts(with: $0) }) else { continue }
                positions.append(try Position(indexKey: bytes, elementsAfterPartition: 0))
            }
        }
        return PlannedPath(path: .positions("lookup WorkflowId", positions), exact: true, estimate: positions.count)
    }
}
