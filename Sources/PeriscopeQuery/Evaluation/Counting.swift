import PeriscopeModel

/// A count's answer: the total, and with GROUP BY one entry per distinct value (executions
/// without a value form the group whose value is nil), largest first.
public struct CountResult: Sendable, Equatable {
    public struct Group: Sendable, Equatable {
        public let value: QueryValue?
        public let count: Int
    }

    public let total: Int
    public let groups: [Group]

    /// A result from per-group counts (a nil key is the group without a value), ordered
    /// largest first, ties by value, the nil group last among equals.
    public init(total: Int, counts: [QueryValue?: Int]) {
        self.total = total
        groups = counts.map { Group(value: $0.key, count: $0.value) }.sorted { left, right in
            if left.count != right.count { return left.count > right.count }
            switch (left.value, right.value) {
            case (nil, _): return false
            case (_, nil): return true
            case (let a?, let b?): return QueryValue.isLess(a, b)
            }
        }
    }
}

extension QueryPlan {
    /// Counts the matching records in memory (the oracle for index-served counts). A GROUP BY
    /// that finds more than `limits.groupsMax` distinct values is refused rather than
    /// answered with an unbounded list.
    public func count<Records: Sequence<VisibilityRecord>>(_ records: Records) throws(QueryError) -> CountResult {
        var total = 0
        var counts: [QueryValue?: Int] = [:]
        for record in records where matches(record) {
            total += 1
            guard let groupBy else { continue }
            let key: QueryValue?
            if case .scalar(let value)? = record.value(of: groupBy) { key = value } else { key = nil }
            if counts[key] == nil, counts.count == limits.groupsMax {
                throw QueryError(.tooLarge, "GROUP BY \(groupBy.name) found more than \(limits.groupsMax) groups; "
                    + "narrow the query or group by an attribute with fewer values", span: nil, in: [])
            }
            counts[key, default: 0] += 1
        }
        return CountResult(total: total, counts: groupBy == nil ? [:] : counts)
    }
}
