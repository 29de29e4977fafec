import PeriscopeModel
import PeriscopeQuery
import PeriscopeStorage

/// One request's view of a shard: a snapshot, the namespace's partitions that can hold
/// matches, the planner, and the streams a path becomes.
final class QueryReader {
    let shard: Shard
    let namespaceId: String
    let options: ReadOptions
    let limits: PlannerLimits
    /// The request's budget: what executing the plan reads.
    let budget: ScanBudget
    /// What planning reads (partitions, probes, materialized paths); bounded by `limits`.
    let planningBudget = ScanBudget.unlimited()
    let namespacePrefix: [UInt8]
    /// Encoded partitions that may hold matches, in list order (open first, newest first).
    let partitions: [[UInt8]]
    /// All of the namespace's partitions, before pruning.
    let partitionsTotal: Int
    /// The indexes' watermark at the snapshot: paths that read records directly (point
    /// lookups) read their state as of it, so every path describes the same moment.
    let watermark: UInt64
    /// Retention horizons at the snapshot: records filed in dropped partitions are gone
    /// even if the indexer has not removed their keys yet.
    let horizons: [String: Int64]
    /// Records outside it are read as absent (a federated query's part in one region).
    let ownership: RecordOwnership?

    /// Reads at `snapshot`, or at a new one.
    init(shard: Shard, namespaceId: String, filter: Predicate, limits: PlannerLimits, budget: ScanBudget,
         snapshot: Snapshot? = nil, ownership: RecordOwnership? = nil) throws {
        self.shard = shard
        self.ownership = ownership
        self.namespaceId = namespaceId
        self.options = ReadOptions(snapshot: try snapshot ?? shard.database.makeSnapshot())
        self.limits = limits
        self.budget = budget
        namespacePrefix = ShardKeys.namespace(namespaceId)
        watermark = try shard.metaIndex(ShardKeys.watermark(.time), options: options)
        horizons = try shard.horizons(options: options)
        let all = try Self.discoverPartitions(shard: shard, options: options, namespacePrefix: namespacePrefix,
                                              budget: planningBudget)
        partitionsTotal = all.count
        let pruning = PartitionPruning(filter, scheme: shard.configuration.partitionScheme)
        partitions = all.filter { bytes in
            guard let elements = try? KeyDecoder.decode(Array(bytes)), let partition = Partition(elements[0].0) else { return true }
            return pruning.admits(partition)
        }
    }

    /// The namespace's partitions, found by skipping from one to the next in the time index.
    private static func discoverPartitions(shard: Shard, options: ReadOptions, namespacePrefix: [UInt8],
                                           budget: ScanBudget) throws -> [[UInt8]] {
        let cursor = try shard.database.makeCursor(in: shard.family(.time), options: options)
        var partitions: [[UInt8]] = []
        var valid = try cursor.seek(to: namespacePrefix)
        while valid {
            let key = cursor.key
            guard key.starts(with: namespacePrefix), key.count >= namespacePrefix.count + Position.partitionLength else { break }
            let partition = Array(key[namespacePrefix.count..<namespacePrefix.count + Position.partitionLength])
            partitions.append(partition)
            try budget.charge()
            guard let next = KeyRange.prefixSuccessor(namespacePrefix + partition) else { break }
            valid = try cursor.seek(to: next)
        }
        return partitions
    }

    // MARK: Records

    /// The execution at an index position, as of the indexes' watermark (the moment the
    /// positions describe); nil if it was not there then (retention removed it), or outside
    /// the read's ownership.
    ///
    /// Not the record as applied: apply runs ahead of the indexer, and a write that moved an
    /// execution (a close moves it to a closed partition, an upsert may change its start
    /// time) left its old position pointing at nothing and its new one not yet indexed. A
    /// listing whose point in time was such a snapshot skipped the execution for all its
    /// pages; the chaos harness's paging checker found it (seeds 5, 9, 10, 11 of the first
    /// 3-node runs). Read as of the watermark, every position finds its execution and a
    /// shard's page is in the plan's order, which the node's cross-shard merge relies on.
    func record(at position: Position) throws -> VisibilityRecord? {
        let (key, partition) = try position.execution(namespaceId: namespaceId)
        try budget.charge()
        if let horizon = horizons[namespaceId], case .closed(let bucket) = partition, bucket <= horizon { return nil }
        guard let record = try shard.state(of: key, asOf: watermark, options: options) else { return nil }
        // The position must be the execution's as of the watermark; another means the index
        // holds a key the watermark's state does not (a retention removal under way).
        let placed = try Position(indexKey: ShardKeys.time(record, shard.configuration.partitionScheme.partition(of: record)),
                                  elementsAfterPartition: 0)
        guard placed == position else { return nil }
        if let ownership, !ownership.contains(record) { return nil }
        return record
    }

    // MARK: Streams

    func stream(_ path: AccessPath) throws -> PositionStream {
        switch path {
        case .scan:
            return try PrefixStream(database: shard.database, family: shard.family(.time), options: options,
                                    namespacePrefix: namespacePrefix, middle: [], elementsAfterPartition: 0,
                                    partitions: partitions, budget: budget)
        case .empty:
            return SortedStream([])
        case .term(let field, let type, let value):
            return try termStream(field: field, type: type, value: value, budget: budget)
        case .positions(_, let positions):
            return SortedStream(positions)
        case .intersect(let paths):
            return IntersectionStream(try paths.map(stream))
        case .union(let paths):
            return UnionStream(try paths.map(stream))
        case .difference(let base, let excluded):
            return DifferenceStream(try stream(base), minus: try stream(excluded))
        }
    }

    func termStream(field: String, type: SearchAttributeType, value: TupleElement, budget: ScanBudget) throws -> PrefixStream {
        try PrefixStream(database: shard.database, family: shard.family(.terms), options: options,
                         namespacePrefix: namespacePrefix, middle: Self.middle(field: field, type: type, value: value),
                         elementsAfterPartition: 3, partitions: partitions, budget: budget)
    }

    static func middle(field: String, type: SearchAttributeType, value: TupleElement?) -> [UInt8] {
        var encoder = KeyEncoder()
        encoder.append(.string(field))
        encoder.append(.int(Int64(type.rawValue)))
        if let value { encoder.append(value) }
        return encoder.bytes
    }

    /// Positions of the postings between two key middles (exclusive end), in every
    /// partition; nil if there are more than `limits.materializedMax`.
    func collect(_ family: ShardColumnFamily, from start: [UInt8], to end: [UInt8]) throws -> [Position]? {
        var positions: [Position] = []
        for partition in partitions {
            let base = namespacePrefix + partition
            let overflow: Bool = try shard.database.scan(in: shard.family(family), range: KeyRange(from: base + start, to: base + end),
                                                         options: options) { entries in
                for entry in entries {
                    try planningBudget.charge()
                    positions.append(try Position(indexKey: entry.key, elementsAfterPartition: 3))
                    if positions.count > limits.materializedMax { return true }
                }
                return false
            }
            if overflow { return nil }
        }
        return positions
    }

    /// The distinct values of a term field in the query's partitions, by skipping from one
    /// value to the next (one seek per value and partition).
    func distinctTerms(of field: QueryField) throws -> [TupleElement] {
        let middle = Self.middle(field: field.name, type: field.type, value: nil)
        var values: [[UInt8]: TupleElement] = [:]
        for partition in partitions {
            let prefix = namespacePrefix + partition + middle
            let cursor = try shard.database.makeCursor(in: shard.family(.terms), range: KeyRange(from: prefix, to: KeyRange.prefixSuccessor(prefix)),
                                                       options: options)
            var valid = try cursor.seekToFirst()
            while valid {
                try budget.charge()
                let key = cursor.key
                var decoder = KeyDecoder(Array(key[prefix.count...]))
                let (element, _) = try decoder.next()
                let valueBytes = Array(key[prefix.count..<prefix.count + decoder.offset])
                values[valueBytes] = element
                guard let next = KeyRange.prefixSuccessor(prefix + valueBytes) else { break }
                valid = try cursor.seek(to: next)
            }
        }
        return values.sorted { bytesPrecede($0.key, $1.key) }.map(\.value)
    }

    /// Postings of a term, counted up to `limits.probeMax`.
    func estimate(field: String, type: SearchAttributeType, value: TupleElement) throws -> Int {
        let stream = try termStream(field: field, type: type, value: value, budget: planningBudget)
        var count = 0
        while count < limits.probeMax, try stream.next() != nil { count += 1 }
        return count
    }
}

/// Which partitions a filter's top-level conditions on `CloseTime` leave: a range or set of
/// close times keeps only the closed partitions that overlap it; `CloseTime IS NULL` keeps
/// only the open section, `IS NOT NULL` only closed ones.
struct PartitionPruning {
    private var allowsOpen = true
    private var lowestBucket: Int64 = .min
    private var highestBucket: Int64 = .max
    private var buckets: Set<Int64>?

    init(_ filter: Predicate, scheme: PartitionScheme) {
        let conjuncts: [Predicate]
        if case .and(let terms) = filter { conjuncts = terms } else { conjuncts = [filter] }
        for conjunct in conjuncts {
            switch conjunct {
            case .range(let field, let lower, let upper) where field == .closeTime:
                allowsOpen = false
                if case .datetime(let time)? = lower?.value { lowestBucket = max(lowestBucket, scheme.bucket(of: time)) }
                if let upper, case .datetime(let time) = upper.value {
                    // An exclusive bound at a bucket's first instant excludes that bucket.
                    let bucket = scheme.bucket(of: time)
                    let atStart = scheme.bucket(of: Timestamp(nanosecondsSinceEpoch: time.nanosecondsSinceEpoch &- 1)) != bucket
                    highestBucket = min(highestBucket, !upper.inclusive && atStart ? bucket - 1 : bucket)
                }
            case .oneOf(let field, let values, negated: false) where field == .closeTime:
                allowsOpen = false
                let set = Set(values.compactMap { value -> Int64? in
                    if case .datetime(let time) = value { return scheme.bucket(of: time) }
                    return nil
                })
                buckets = buckets.map { $0.intersection(set) } ?? set
            case .isNull(let field, let negated) where field == .closeTime:
                if negated { allowsOpen = false } else { lowestBucket = .max; highestBucket = .min }
            default:
                continue
            }
        }
    }

    func admits(_ partition: Partition) -> Bool {
        switch partition {
        case .open: return allowsOpen
        case .closed(let bucket):
            return bucket >= lowestBucket && bucket <= highestBucket && (buckets?.contains(bucket) ?? true)
        }
    }
}
