import PeriscopeModel
import PeriscopeQuery
import PeriscopeStorage

/// ORDER BY one sortable attribute, served in the order of its index instead of a top-K:
/// each partition's postings of the attribute are read in value order (backwards for
/// DESC) and merged across partitions; executions with equal values are put in the list's
/// tie order (RunId, then WorkflowId) before they are emitted, and the executions without
/// a value come last, as the list order puts them. Records are checked against the filter
/// as they come, so a page reads about as many keys as it returns rows when the filter is
/// common, and the query has no size limit.
extension Shard {
    /// Whether `plan`'s ORDER BY can be served this way: one key, not an id (they are the
    /// tie-breakers), and not Bool or ExecutionStatus, whose few values make groups of
    /// equal values as large as the namespace (each group is read whole to order its ties).
    static func servesInIndexOrder(_ plan: QueryPlan) -> Bool {
        guard plan.orderBy.count == 1, let field = plan.orderBy.first?.field else { return false }
        if field.kind == .system, ["RunId", "WorkflowId", "ExecutionStatus"].contains(field.name) { return false }
        if field.type == .bool { return false }
        return IndexedField.isValueField(field) || (IndexedField.isTermField(field) && field.isSortable)
    }

    func listInValueOrder(_ request: ShardListRequest, planned: PlannedPath, reader: QueryReader,
                          budget: ScanBudget) throws -> (records: [VisibilityRecord], next: ShardCursor?) {
        let plan = request.plan
        let sortKey = plan.orderBy[0]
        var after = try Self.sortCursor(request)
        var records: [VisibilityRecord] = []
        if after?[0] != nil || after == nil {
            let merge = try ValueOrderMerge(reader: reader, field: sortKey.field, descending: sortKey.descending,
                                            from: after?[0] ?? nil, groupMax: request.limits.tieGroupMax)
            while let group = try merge.nextGroup() {
                for entry in group {
                    let values: [QueryValue?] = [entry.value, .string(entry.key.runId), .string(entry.key.workflowId)]
                    if let after, plan.compareSortValues(values, after) <= 0 { continue }
                    try budget.charge()
                    budget.beginStep()
                    // Read as of the watermark, the record has the value this posting was
                    // written for; another would mean an index out of step with its watermark
                    // (which verify reports), and the record is skipped rather than misplaced.
                    if let record = try reader.record(at: entry.position), plan.matches(record),
                       let current = plan.sortValues(of: record).first, current.map({ QueryValue.order($0, entry.value) == 0 }) == true {
                        records.append(record)
                    }
                    if records.count == request.pageSize || budget.isSpent { return (records, .sortValues(values)) }
                }
            }
            after = nil
        }
        // The executions without a value for the sort key: by RunId, then WorkflowId.
        let absent = try Self.topK(reader.stream(planned.path), reader: reader, budget: budget, plan: plan, after: after,
                                   limit: request.pageSize - records.count, keeping: { $0[0] == nil }) {
            "ORDER BY \(sortKey.field.name) read \(budget.keysRead) keys, the request's budget, before finding every match "
                + "without a \(sortKey.field.name); narrow the filter"
        }
        return (records + absent.records, absent.next)
    }
}

/// The postings of one attribute in every partition of a query, merged in value order.
final class ValueOrderMerge {
    struct Entry {
        let value: QueryValue
        let key: ExecutionKey
        let position: Position
    }

    private struct Head {
        let cursor: Cursor
        let prefixLength: Int
        var valueBytes: [UInt8]
        var key: [UInt8]
    }

    private let field: QueryField
    private let descending: Bool
    private let namespaceId: String
    private let budget: ScanBudget
    private let groupMax: Int
    private var heads: [Head] = []

    /// Starts at `from` (inclusive; the caller skips what its cursor already returned).
    init(reader: QueryReader, field: QueryField, descending: Bool, from start: QueryValue?, groupMax: Int) throws {
        self.field = field
        self.descending = descending
        self.groupMax = groupMax
        namespaceId = reader.namespaceId
        budget = reader.budget
        let family: ShardColumnFamily = IndexedField.isValueField(field) ? .values : .terms
        let middle = QueryReader.middle(field: field.name, type: field.type, value: nil)
        let startElement = try start.map { value -> [UInt8] in
            guard let (element, _) = IndexedField.element(value, for: field, rounding: .down) else {
                throw ShardQueryError(.invalidArgument, "the cursor's \(field.name) value \(value) does not fit the attribute")
            }
            return KeyEncoder.encode([element])
        }
        for partition in reader.partitions {
            let prefix = reader.namespacePrefix + partition + middle
            let cursor = try reader.shard.database.makeCursor(in: reader.shard.family(family),
                                                              range: KeyRange(from: prefix, to: KeyRange.prefixSuccessor(prefix)),
                                                              options: reader.options)
            let valid: Bool
            switch (startElement, descending) {
            case (nil, false): valid = try cursor.seekToFirst()
            case (nil, true): valid = try cursor.seekToLast()
            case (let bound?, false): valid = try cursor.seek(to: prefix + bound)
            case (let bound?, true): valid = try cursor.seek(toLastAtOrBefore: KeyRange.prefixSuccessor(prefix + bound)!)
            }
            if valid, let head = try Self.head(cursor, prefixLength: prefix.count) { heads.append(head) }
        }
    }

    private static func head(_ cursor: Cursor, prefixLength: Int) throws -> Head? {
        let key = cursor.key
        var decoder = KeyDecoder(Array(key[prefixLength...]))
        _ = try decoder.next()
        return Head(cursor: cursor, prefixLength: prefixLength, valueBytes: Array(key[prefixLength..<prefixLength + decoder.offset]), key: key)
    }

    /// The executions with the next value, in tie order (RunId, then WorkflowId); nil at
    /// the end.
    func nextGroup() throws -> [Entry]? {
        guard let best = heads.indices.min(by: { a, b in
            let order = compareBytes(heads[a].valueBytes, heads[b].valueBytes)
            return descending ? order > 0 : order < 0
        }) else { return nil }
        let valueBytes = heads[best].valueBytes
        var keys: [[UInt8]] = []
        var index = 0
        while index < heads.count {
            while heads[index].valueBytes == valueBytes {
                keys.append(heads[index].key)
                if keys.count > groupMax {
                    throw ShardQueryError(.tooExpensive, "ORDER BY \(field.name): more than \(groupMax) executions share one "
                        + "value, and ordering their ties needs them all; add a filter or another sort key")
                }
                try budget.charge()
                let moved = descending ? try heads[index].cursor.previous() : try heads[index].cursor.next()
                guard moved, let next = try Self.head(heads[index].cursor, prefixLength: heads[index].prefixLength) else {
                    heads[index].valueBytes = []
                    break
                }
                heads[index] = next
            }
            if heads[index].valueBytes.isEmpty { heads.remove(at: index) } else { index += 1 }
        }
        let (element, _) = try KeyDecoder(valueBytes).nextElement()
        let value = try Self.queryValue(element, field: field)
        var entries = try keys.map { key -> Entry in
            let position = try Position(indexKey: key, elementsAfterPartition: 3)
            return Entry(value: value, key: try position.execution(namespaceId: namespaceId).0, position: position)
        }
        entries.sort { left, right in
            let runs = compareBytes(Array(left.key.runId.utf8), Array(right.key.runId.utf8))
            return runs != 0 ? runs < 0 : compareBytes(Array(left.key.workflowId.utf8), Array(right.key.workflowId.utf8)) < 0
        }
        return entries
    }

    /// A value read from an index key, as the query layer compares it.
    static func queryValue(_ element: TupleElement, field: QueryField) throws -> QueryValue {
        switch element {
        case .int(let number) where field.isExecutionStatus:
            guard let raw = Int32(exactly: number), let status = ExecutionStatus(rawValue: raw) else {
                throw ShardError("index entry of ExecutionStatus holds \(number)")
            }
            return .status(status)
        case .int(let number): return .int(number)
        case .double(let number): return .double(number)
        case .timestamp(let time): return .datetime(time)
        case .string(let string): return .string(string)
        case .bool(let flag): return .bool(flag)
        case .null, .bytes: throw ShardError("index entry of \(field.name) holds \(element)")
        }
    }
}

extension KeyDecoder {
    /// The first element of a key, with the decoder (for one-element keys).
    fileprivate func nextElement() throws -> (TupleElement, SortDirection) {
        var copy = self
        return try copy.next()
    }
}
