import PeriscopeModel
import PeriscopeStorage

/// Where the indexes stand after an indexing batch.
public struct IndexingProgress: Sendable, Equatable {
    /// The last applied index every index reflects.
    public var watermark: UInt64
    /// The applied index the batch saw.
    public var appliedIndex: UInt64
    /// Change records (entries) this batch consumed.
    public var entriesIndexed: Int
    /// Executions whose index entries this batch recomputed.
    public var executionsIndexed: Int
    /// Index keys written and deleted.
    public var keysPut: Int
    public var keysDeleted: Int

    public var isCaughtUp: Bool { watermark >= appliedIndex }
}

extension Shard {
    /// Runs one indexing batch: reads up to `indexBatchEntriesMax` change records past the
    /// watermark, recomputes the index entries of the executions they touched, and writes
    /// the differences, the new watermarks and the removal of the consumed change records
    /// in one atomic WriteBatch. Never blocks `apply`: it reads a RocksDB snapshot.
    ///
    /// The indexes at watermark `W` hold exactly the entries of every execution's state as
    /// of `W`. A batch that stops at `E` computes each touched execution's state as of `E`:
    /// the current record if nothing changed it after `E`, otherwise the record before its
    /// first change after `E`, found by walking the chain of change records back from the
    /// locator's `lastChange`. So the writes are minimal and exact however far apply runs
    /// ahead.
    @discardableResult
    public func indexPending() throws -> IndexingProgress {
        try indexerLock.withLock { _ in
            let snapshot = try database.makeSnapshot()
            let read = ReadOptions(snapshot: snapshot)
            let applied = try metaIndex(ShardKeys.appliedIndex, options: read)
            let watermark = try ShardIndex.allCases.map { try metaIndex(ShardKeys.watermark($0), options: read) }.min()!
            var progress = IndexingProgress(watermark: watermark, appliedIndex: applied, entriesIndexed: 0,
                                            executionsIndexed: 0, keysPut: 0, keysDeleted: 0)
            guard watermark < applied else { return progress }

            let limit = configuration.indexBatchEntriesMax
            let changes: [(UInt64, ChangeRecord)] = try database.scan(
                in: family(.changes), range: KeyRange(from: ShardKeys.change(index: watermark + 1),
                                                      to: applied < .max ? ShardKeys.change(index: applied + 1) : nil),
                options: read
            ) { entries in
                try entries.prefix(limit).map { entry in
                    guard let index = ShardKeys.changeIndex(entry.key) else { throw ShardError("malformed change key \(entry.key)") }
                    return (index, try ChangeRecord.decode(entry.value))
                }
            }
            let end = changes.count == limit ? changes.last!.0 : applied

            // Each execution's state at the watermark: the record before its first change.
            var before: [ExecutionKey: VisibilityRecord?] = [:]
            var order: [ExecutionKey] = []
            var expiries: [ChangeRecord.Expiry] = []
            for (_, change) in changes {
                for touch in change.touches where before[touch.key] == nil {
                    before[touch.key] = .some(touch.before)
                    order.append(touch.key)
                }
                expiries += change.expiries
            }

            let batch = WriteBatch()
            for expiry in expiries {
                let range = ShardKeys.closedPartitions(expiry.namespaceId, throughBucket: expiry.throughBucket)
                for index in ShardIndex.allCases {
                    try batch.deleteRange(from: range.from, to: range.to, in: family(index.columnFamily))
                }
            }
            // Each index's writes go into the batch in key order: RocksDB's memtable inserts a
            // run of ascending keys far faster than scattered ones (it reuses its search path).
            let scheme = configuration.partitionScheme
            var writes: [ShardIndex: [(key: [UInt8], put: Bool)]] = [:]
            for key in order {
                let old = before[key]!.map { IndexEntries($0, scheme: scheme) } ?? IndexEntries()
                let new = try state(of: key, asOf: end, options: read).map { IndexEntries($0, scheme: scheme) } ?? IndexEntries()
                guard old != new else { continue }
                for index in ShardIndex.allCases {
                    Self.difference(from: old[index], to: new[index], into: &writes[index, default: []])
                }
            }
            for (index, entries) in writes {
                let family = family(index.columnFamily)
                for entry in entries.sorted(by: { bytesPrecede($0.key, $1.key) }) {
                    if entry.put {
                        try batch.put(entry.key, [], in: family)
                        progress.keysPut += 1
                    } else {
                        try batch.delete(entry.key, in: family)
                        progress.keysDeleted += 1
                    }
                }
            }
            for index in ShardIndex.allCases {
                try batch.put(ShardKeys.watermark(index), bigEndian(end), in: family(.meta))
            }
            // Point deletes, not a range: every iterator over a memtable fragments all its
            // range tombstones first, and an indexer that keeps up writes one per small batch
            // (thousands before a flush), which made RocksDB spend half a node's CPU sorting them.
            for (index, _) in changes { try batch.delete(ShardKeys.change(index: index), in: family(.changes)) }
            try database.write(batch, options: .buffered)
            indexProgress.publish(end)

            progress.watermark = end
            progress.entriesIndexed = changes.prefix { $0.0 <= end }.count
            progress.executionsIndexed = order.count
            return progress
        }
    }

    /// Indexes until the watermark reaches the applied index seen at the start of a batch.
    @discardableResult
    public func indexUntilCaughtUp() throws -> IndexingProgress {
        while true {
            let progress = try indexPending()
            if progress.isCaughtUp { return progress }
        }
    }

    /// The watermark of each index.
    public func watermarks() throws -> [ShardIndex: UInt64] {
        var marks: [ShardIndex: UInt64] = [:]
        for index in ShardIndex.allCases { marks[index] = try metaIndex(ShardKeys.watermark(index), options: ReadOptions()) }
        return marks
    }

    /// Applied entries the slowest index does not reflect yet.
    public func indexLag() throws -> UInt64 {
        let applied = appliedIndex
        let watermark = try watermarks().values.min() ?? 0
        return applied > watermark ? applied - watermark : 0
    }

    /// The keys to delete (in `old` only) and to put (in `new` only), by a merge of the two
    /// sorted lists (a record has a few dozen keys; hashing them costs more).
    static func difference(from old: [[UInt8]], to new: [[UInt8]], into writes: inout [(key: [UInt8], put: Bool)]) {
        let old = old.sorted(by: bytesPrecede), new = new.sorted(by: bytesPrecede)
        var i = 0, j = 0
        while i < old.count || j < new.count {
            let order = i == old.count ? 1 : j == new.count ? -1 : compareBytes(old[i], new[j])
            if order < 0 {
                writes.append((old[i], false))
                i += 1
            } else if order > 0 {
                writes.append((new[j], true))
                j += 1
            } else {
                i += 1
                j += 1
            }
        }
    }

    // MARK: State as of an index

    /// An execution's live record as of applied index `end`, read at `options`' snapshot
    /// (which has applied at least `end`); nil if it had none then, or retention dropped it.
    func state(of key: ExecutionKey, asOf end: UInt64, options: ReadOptions) throws -> VisibilityRecord? {
        guard let bytes = try database.get(ShardKeys.locator(key), in: family(.locator), options: options) else { return nil }
        let current = try ExecutionState.decode(bytes)
        let horizon = try horizon(key.namespaceId, options: options)
        let record: VisibilityRecord?
        if current.lastChange <= end {
            record = try current.kind == .live ? self.record(key, in: current.partition, options: options) : nil
        } else {
            record = try recordBeforeFirstChange(of: key, after: end, latest: current.lastChange, options: options)
        }
        guard let record else { return nil }
        if let horizon, case .closed(let bucket) = configuration.partitionScheme.partition(of: record), bucket <= horizon {
            return nil
        }
        return record
    }

    private func recordBeforeFirstChange(of key: ExecutionKey, after end: UInt64, latest: UInt64,
                                         options: ReadOptions) throws -> VisibilityRecord? {
        var index = latest
        while true {
            guard let bytes = try database.get(ShardKeys.change(index: index), in: family(.changes), options: options),
                  let touch = try ChangeRecord.decode(bytes).touches.first(where: { $0.key == key })
            else { throw ShardError("change record \(index) of \(key) is missing: the change chain is broken") }
            if touch.previousChange <= end { return touch.before }
            index = touch.previousChange
        }
    }

    func metaIndex(_ key: [UInt8], options: ReadOptions) throws -> UInt64 {
        try database.get(key, in: family(.meta), options: options).map { try readFixed($0, what: "meta index") } ?? 0
    }
}
