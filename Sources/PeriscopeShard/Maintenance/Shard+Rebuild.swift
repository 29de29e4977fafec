import PeriscopeModel
import PeriscopeStorage

/// What a rebuild changed.
public struct RebuildProgress: Sendable, Equatable {
    public var chunks = 0
    public var executionsChecked = 0
    public var keysChecked = 0
    public var keysAdded = 0
    public var keysRemoved = 0
}

extension Shard {
    /// Rebuilds the indexes in place, online: recomputes every execution's keys from the
    /// records and repairs what differs, chunk by chunk. Each chunk runs under the indexer's
    /// lock at the current watermark (so it and the indexer never write the same keys at
    /// once) and is one WriteBatch; between chunks the indexer goes on, apply never waits,
    /// and queries keep answering from indexes that only get closer to the records. Use it
    /// after a change of what is indexed (a new build indexing more fields) or when `verify`
    /// reports differences. Adding a search attribute needs none: every attribute a record
    /// carries is indexed under its name and type already.
    ///
    /// Two passes: every index key is checked against its execution's expected keys (and
    /// removed if unexpected), then every execution's expected keys are looked up (and
    /// written if missing). `onChunk` runs between chunks, outside the lock.
    @discardableResult
    public func rebuildIndexes(chunkSize: Int = 5_000, onChunk: ((RebuildProgress) throws -> Void)? = nil) throws -> RebuildProgress {
        precondition(chunkSize > 0)
        var progress = RebuildProgress()
        let scheme = configuration.partitionScheme
        for index in ShardIndex.allCases {
            var start: [UInt8] = []
            var done = false
            while !done {
                try indexerLock.withLock { _ in
                    let read = ReadOptions(snapshot: try database.makeSnapshot())
                    let watermark = try metaIndex(ShardKeys.watermark(index), options: read)
                    let horizons = try horizons(options: read)
                    let keys: [[UInt8]] = try database.scan(in: family(index.columnFamily), range: KeyRange(from: start), options: read) {
                        Array($0.prefix(chunkSize).map(\.key))
                    }
                    var expected: [ExecutionKey: Set<[UInt8]>] = [:]
                    let batch = WriteBatch()
                    for key in keys where !Self.isExpired(indexKey: key, horizons: horizons) {
                        progress.keysChecked += 1
                        guard let execution = try? Self.executionKey(fromIndexKey: key) else {
                            try batch.delete(key, in: family(index.columnFamily))
                            progress.keysRemoved += 1
                            continue
                        }
                        if expected[execution] == nil {
                            let record = try state(of: execution, asOf: watermark, options: read)
                            expected[execution] = Set(record.map { IndexEntries($0, scheme: scheme)[index] } ?? [])
                        }
                        if !expected[execution]!.contains(key) {
                            try batch.delete(key, in: family(index.columnFamily))
                            progress.keysRemoved += 1
                        }
                    }
                    try database.write(batch, options: .buffered)
                    if let last = keys.last, keys.count == chunkSize { start = last + [0] } else { done = true }
                }
                progress.chunks += 1
                try onChunk?(progress)
            }
        }
        var start: [UInt8] = []
        var done = false
        while !done {
            try indexerLock.withLock { _ in
                let read = ReadOptions(snapshot: try database.makeSnapshot())
                let watermark = try metaIndex(ShardKeys.watermark(.time), options: read)
                let locators: [[UInt8]] = try database.scan(in: family(.locator), range: KeyRange(from: start), options: read) {
                    Array($0.prefix(chunkSize).map(\.key))
                }
                let batch = WriteBatch()
                for locator in locators {
                    progress.executionsChecked += 1
                    let execution = try Self.executionKey(fromLocator: locator)
                    guard let record = try state(of: execution, asOf: watermark, options: read) else { continue }
                    let entries = IndexEntries(record, scheme: scheme)
                    for index in ShardIndex.allCases {
                        let keys = entries[index]
                        let found = try database.multiGet(keys, in: family(index.columnFamily), options: read)
                        for (key, value) in zip(keys, found) where value == nil {
                            try batch.put(key, [], in: family(index.columnFamily))
                            progress.keysAdded += 1
                        }
                    }
                }
                try database.write(batch, options: .buffered)
                if let last = locators.last, locators.count == chunkSize { start = last + [0] } else { done = true }
            }
            progress.chunks += 1
            try onChunk?(progress)
        }
        return progress
    }

    /// The execution an index key (namespace, partition, …, runId, workflowId) belongs to.
    static func executionKey(fromIndexKey key: [UInt8]) throws -> ExecutionKey {
        let elements = try KeyDecoder.decode(key).map(\.0)
        guard case .string(let namespaceId)? = elements.first, let ids = ShardKeys.executionIds(endingOrder: elements)
        else { throw ShardError("malformed index key \(describeKey(key))") }
        return ExecutionKey(namespaceId: namespaceId, workflowId: ids.workflowId, runId: ids.runId)
    }
}
