import PeriscopeModel
import PeriscopeQuery
import PeriscopeStorage

/// Where a page ended: the next page starts after it.
public enum ShardCursor: Hashable, Sendable {
    /// Default order: the last index position examined (not necessarily returned).
    case position([UInt8])
    /// Another order: the sort values of the last execution returned.
    case sortValues([QueryValue?])
}

public struct ShardListRequest: Sendable {
    public var namespaceId: String
    public var plan: QueryPlan
    public var pageSize: Int
    public var after: ShardCursor?
    /// Index keys and records this request may read before it returns what it has.
    public var scanBudget: Int
    public var limits: PlannerLimits
    /// When set, only the executions it contains are listed.
    public var ownership: RecordOwnership?

    public init(namespaceId: String, plan: QueryPlan, pageSize: Int = 100, after: ShardCursor? = nil,
                scanBudget: Int = 100_000, limits: PlannerLimits = PlannerLimits()) {
        self.namespaceId = namespaceId
        self.plan = plan
        self.pageSize = pageSize
        self.after = after
        self.scanBudget = scanBudget
        self.limits = limits
    }

    public static let pageSizeMax = 10_000
}

public struct ShardListPage: Sendable {
    public var records: [VisibilityRecord]
    /// Nil when the list is complete.
    public var next: ShardCursor?
    /// True when the page stopped at the scan budget rather than at the page size.
    public var budgetExhausted: Bool
    public var keysRead: Int
    /// The indexes' watermark at the page's snapshot.
    public var watermark: UInt64
    public var explain: String
    /// In the default order, the index position each record was read at (the cursor that
    /// resumes right after it); empty with ORDER BY, whose cursor is the sort values.
    var positions: [[UInt8]] = []
}

public struct ShardCount: Sendable {
    public var result: CountResult
    /// Answered from the index alone, without reading records.
    public var indexOnly: Bool
    public var keysRead: Int
    public var explain: String
}

extension Shard {
    /// One page of the executions of `request.namespaceId` matching `request.plan`, in the
    /// plan's order, read at one snapshot. **Blocks.**
    public func list(_ request: ShardListRequest) throws -> ShardListPage { try list(request, snapshot: nil) }

    func list(_ request: ShardListRequest, snapshot: Snapshot?) throws -> ShardListPage {
        guard (1...ShardListRequest.pageSizeMax).contains(request.pageSize) else {
            throw ShardQueryError(.invalidArgument, "page size \(request.pageSize) is outside 1...\(ShardListRequest.pageSizeMax)")
        }
        let budget = ScanBudget(limit: request.scanBudget)
        let reader = try QueryReader(shard: self, namespaceId: request.namespaceId, filter: request.plan.filter,
                                     limits: request.limits, budget: budget, snapshot: snapshot, ownership: request.ownership)
        let planned = try reader.planQuery(request.plan.filter)
        let page: (records: [VisibilityRecord], next: ShardCursor?, exhausted: Bool)
        var positions: [[UInt8]] = []
        let order: String
        if request.plan.orderBy.isEmpty {
            order = "index order (default)"
            let listed = try listInIndexOrder(request, stream: reader.stream(planned.path), reader: reader, budget: budget)
            page = (listed.records, listed.next, listed.exhausted)
            positions = listed.positions
        } else if Self.servesInIndexOrder(request.plan), !request.limits.disabled.contains(.indexOrder),
                  try (planned.estimate ?? reader.probe(planned.path)) >= request.limits.topKMax {
            // A broad filter: walk the sort attribute's index (a selective one is cheaper to
            // read whole and sort).
            order = "index order of \(request.plan.orderBy[0].field.name)"
            let ordered = try listInValueOrder(request, planned: planned, reader: reader, budget: budget)
            page = (ordered.records, ordered.next, budget.isSpent)
        } else {
            order = "top-K by " + request.plan.orderBy.map { $0.field.name + ($0.descending ? " DESC" : "") }.joined(separator: ", ")
            let sorted = try listTopK(request, stream: reader.stream(planned.path), reader: reader, budget: budget)
            page = (sorted.records, sorted.next, false)
        }
        return ShardListPage(records: page.records, next: page.next, budgetExhausted: page.exhausted, keysRead: budget.keysRead,
                             watermark: reader.watermark,
                             explain: Self.explain(planned, reader: reader, order: order) + "\nread: \(budget.keysRead) keys",
                             positions: positions)
    }

    /// Streams positions in list order from the cursor, checking each record.
    private func listInIndexOrder(_ request: ShardListRequest, stream: PositionStream, reader: QueryReader,
                                  budget: ScanBudget) throws -> (records: [VisibilityRecord], next: ShardCursor?, exhausted: Bool,
                                                                 positions: [[UInt8]]) {
        var position: Position?
        switch request.after {
        case .position(let bytes)?:
            let after = Position(bytes: bytes)
            position = try stream.seek(atOrAfter: after)
            if position == after { position = try stream.next() }
        case .sortValues?:
            throw ShardQueryError(.invalidArgument, "the cursor belongs to a query with ORDER BY; this one has none")
        case nil:
            position = try stream.next()
        }
        var records: [VisibilityRecord] = []
        var positions: [[UInt8]] = []
        while let current = position {
            budget.beginStep()
            if let record = try reader.record(at: current), request.plan.matches(record) {
                records.append(record)
                positions.append(current.bytes)
            }
            if records.count == request.pageSize || budget.isSpent {
                let exhausted = records.count < request.pageSize
                // The next page starts after this position; it ends the list only if no
                // position follows.
                let following = try stream.next()
                return (records, following == nil ? nil : .position(current.bytes), exhausted && following != nil, positions)
            }
            position = try stream.next()
        }
        return (records, nil, false, positions)
    }

    /// Reads every candidate (within the budget), keeps the first `pageSize` after the
    /// cursor in the plan's order.
    private func listTopK(_ request: ShardListRequest, stream: PositionStream, reader: QueryReader,
                          budget: ScanBudget) throws -> (records: [VisibilityRecord], next: ShardCursor?) {
        try Self.topK(stream, reader: reader, budget: budget, plan: request.plan, after: try Self.sortCursor(request),
                      limit: request.pageSize, keeping: { _ in true }) {
            "ORDER BY read \(budget.keysRead) keys, the request's budget, before reading every match; narrow the filter "
                + "or list in the default order"
        }
    }

    /// The first `limit` matches of `stream` whose sort values `keeping` accepts, after
    /// `after`, in the plan's order, holding at most twice `limit` at a time; every
    /// candidate is read, and running out of budget first is refused with `tooExpensive`.
    static func topK(_ stream: PositionStream, reader: QueryReader, budget: ScanBudget, plan: QueryPlan, after: [QueryValue?]?,
                     limit: Int, keeping: ([QueryValue?]) -> Bool,
                     tooExpensive: () -> String) throws -> (records: [VisibilityRecord], next: ShardCursor?) {
        var kept: [(values: [QueryValue?], record: VisibilityRecord)] = []
        var more = false
        func trim() {
            kept.sort { plan.compareSortValues($0.values, $1.values) < 0 }
            if kept.count > limit {
                kept.removeLast(kept.count - limit)
                more = true
            }
        }
        while let position = try stream.next() {
            budget.beginStep()
            if budget.isSpent { throw ShardQueryError(.tooExpensive, tooExpensive()) }
            guard let record = try reader.record(at: position), plan.matches(record) else { continue }
            let values = plan.sortValues(of: record)
            guard keeping(values) else { continue }
            if let after, plan.compareSortValues(values, after) <= 0 { continue }
            kept.append((values, record))
            if kept.count > 2 * limit { trim() }
        }
        trim()
        return (kept.map(\.record), more ? .sortValues(kept.last!.values) : nil)
    }

    /// The sort values an ORDER BY page starts after (nil for the first page).
    static func sortCursor(_ request: ShardListRequest) throws -> [QueryValue?]? {
        switch request.after {
        case .sortValues(let values)?:
            guard values.count == request.plan.order.count else {
                throw ShardQueryError(.invalidArgument, "the cursor has \(values.count) sort values; this query sorts by \(request.plan.order.count)")
            }
            return values
        case .position?:
            throw ShardQueryError(.invalidArgument, "the cursor belongs to a query in the default order; this one has ORDER BY")
        case nil:
            return nil
        }
    }

    /// Counts the matching executions of a namespace (with GROUP BY, per group). Index-only
    /// when the plan's path decides the filter alone and no ownership is given. **Blocks.**
    public func count(namespaceId: String, plan: QueryPlan, scanBudget: Int = 10_000_000,
                      limits: PlannerLimits = PlannerLimits(), ownership: RecordOwnership? = nil) throws -> ShardCount {
        let budget = ScanBudget(limit: scanBudget)
        let reader = try QueryReader(shard: self, namespaceId: namespaceId, filter: plan.filter, limits: limits, budget: budget,
                                     ownership: ownership)
        let planned = try reader.planQuery(plan.filter)
        func spentCheck() throws {
            if budget.isSpent {
                throw ShardQueryError(.tooExpensive, "the count read \(budget.keysRead) keys, its budget; narrow the filter")
            }
        }
        func countPositions(_ path: AccessPath) throws -> Int {
            let stream = try reader.stream(path)
            var count = 0
            while try stream.next() != nil {
                count += 1
                budget.beginStep()
                try spentCheck()
            }
            return count
        }
        if planned.exact, ownership == nil, plan.groupBy.map(IndexedField.isGroupableFromIndex) ?? true {
            var groups: [QueryValue?: Int] = [:]
            var total: Int
            if let field = plan.groupBy {
                // One group per distinct term: its postings within the filter's path (the
                // term drives: it is the smaller). Executions without a value are the rest.
                for element in try reader.distinctTerms(of: field) {
                    let term = AccessPath.term(field: field.name, type: field.type, value: element)
                    let path: AccessPath
                    if case .scan = planned.path { path = term } else { path = .intersect([term, planned.path]) }
                    let count = try countPositions(path)
                    guard count > 0 else { continue }
                    groups[try ValueOrderMerge.queryValue(element, field: field)] = count
                    if groups.count > plan.limits.groupsMax {
                        throw ShardQueryError(.tooExpensive, "GROUP BY \(field.name) found more than \(plan.limits.groupsMax) groups; "
                            + "narrow the query or group by an attribute with fewer values")
                    }
                }
                // A field every execution has leaves no one without a value: the groups add
                // up to the total, which needs no pass of its own.
                total = groups.values.reduce(0, +)
                if !(field.kind == .system && IndexedField.alwaysPresent.contains(field.name)) {
                    let all = try countPositions(planned.path)
                    if all > total { groups[nil] = all - total }
                    total = all
                }
            } else {
                total = try countPositions(planned.path)
            }
            let explain = Self.explain(planned, reader: reader, order: "count from the index") + "\nread: \(budget.keysRead) keys"
            return ShardCount(result: CountResult(total: total, counts: groups), indexOnly: true, keysRead: budget.keysRead,
                              explain: explain)
        }
        let stream = try reader.stream(planned.path)
        var records: [VisibilityRecord] = []
        while let position = try stream.next() {
            budget.beginStep()
            try spentCheck()
            if let record = try reader.record(at: position), plan.matches(record) { records.append(record) }
        }
        let result = try plan.count(records)
        let explain = Self.explain(planned, reader: reader, order: "count checking records") + "\nread: \(budget.keysRead) keys"
        return ShardCount(result: result, indexOnly: false, keysRead: budget.keysRead, explain: explain)
    }

    /// The plan a list or count would use, without running it.
    public func explain(namespaceId: String, plan: QueryPlan, limits: PlannerLimits = PlannerLimits()) throws -> String {
        let reader = try QueryReader(shard: self, namespaceId: namespaceId, filter: plan.filter, limits: limits,
                                     budget: .unlimited())
        let planned = try reader.planQuery(plan.filter)
        return Self.explain(planned, reader: reader, order: plan.orderBy.isEmpty ? "index order (default)" : "top-K")
    }

    private static func explain(_ planned: PlannedPath, reader: QueryReader, order: String) -> String {
        let estimate = planned.estimate.map { $0 >= PlannedPath.scanEstimate ? "every execution" : "≤ \($0)" } ?? "not needed"
        return planned.path.explain() + "\n"
            + "estimate: \(estimate); \(planned.exact ? "exact (the index decides the filter)" : "records checked against the filter")\n"
            + "partitions: \(reader.partitions.count) of \(reader.partitionsTotal); order: \(order)"
    }
}
