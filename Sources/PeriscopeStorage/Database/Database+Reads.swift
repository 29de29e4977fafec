import CRocksDB

extension Database {
    /// The value stored under `key`, or `nil`. **Blocks**.
    public func get(_ key: Bytes, in columnFamily: ColumnFamily? = nil, options: ReadOptions = ReadOptions()) throws -> Bytes? {
        let readOptions = makeReadOptions(options)
        return try withLease("get", columnFamily) { database, family in
            let slice = try key.withCBytes { keyPointer, keyCount in
                try withRocksDBError("get", path: path) { error in
                    rocksdb_get_pinned_cf(database, readOptions.pointer, family, keyPointer, keyCount, error)
                }
            }
            guard let slice else { return nil }
            defer { rocksdb_pinnableslice_destroy(slice) }
            var count = 0
            let value = rocksdb_pinnableslice_value(slice, &count)
            return Bytes(copying: value, count: count)
        }
    }

    /// The values of several keys of one column family, in the order of `keys`. **Blocks**.
    /// Cheaper than one `get` per key: RocksDB batches the index and filter lookups.
    public func multiGet(_ keys: [Bytes], in columnFamily: ColumnFamily? = nil, options: ReadOptions = ReadOptions()) throws -> [Bytes?] {
        guard !keys.isEmpty else { return [] }
        let readOptions = makeReadOptions(options)
        return try withLease("multi-get", columnFamily) { database, family in
            var slices = [OpaquePointer?](repeating: nil, count: keys.count)
            var errors = [UnsafeMutablePointer<CChar>?](repeating: nil, count: keys.count)
            let sizes = keys.map(\.count)
            let copies: [UnsafeMutablePointer<CChar>] = keys.map { key in
                let copy = UnsafeMutablePointer<CChar>.allocate(capacity: max(key.count, 1))
                key.withCBytes { source, count in copy.update(from: source, count: count) }
                return copy
            }
            defer { copies.forEach { $0.deallocate() } }
            let keyPointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
            rocksdb_batched_multi_get_cf(database, readOptions.pointer, family, keys.count,
                                         keyPointers, sizes, &slices, &errors, false)
            defer { slices.forEach { if let slice = $0 { rocksdb_pinnableslice_destroy(slice) } } }
            var failure: StorageError?
            for error in errors {
                if let message = takeRocksDBString(error), failure == nil {
                    failure = StorageError.fromRocksDB(message, operation: "multi-get", path: path)
                }
            }
            if let failure { throw failure }
            return slices.map { slice in
                guard let slice else { return nil }
                var count = 0
                return Bytes(copying: rocksdb_pinnableslice_value(slice, &count), count: count)
            }
        }
    }

    /// Takes a snapshot of the database's current state. Cheap; no I/O.
    public func makeSnapshot() throws -> Snapshot {
        try withLease("snapshot") { database in
            guard let snapshot = rocksdb_create_snapshot(database) else {
                throw StorageError(.unknown, operation: "snapshot", path: path, message: "RocksDB returned no snapshot")
            }
            lifecycle.withLock { $0.openSnapshots += 1 }
            return Snapshot(database: self, pointer: snapshot)
        }
    }

    /// A cursor over `range` of a column family, for callers that steer it by hand.
    public func makeCursor(in columnFamily: ColumnFamily? = nil, range: KeyRange = .all, options: ReadOptions = ReadOptions()) throws -> Cursor {
        let readOptions = makeReadOptions(options, range: range)
        return try withLease("iterate", columnFamily) { database, family in
            guard let iterator = rocksdb_create_iterator_cf(database, readOptions.pointer, family) else {
                throw StorageError(.unknown, operation: "iterate", path: path, message: "RocksDB returned no iterator")
            }
            lifecycle.withLock { $0.openCursors += 1 }
            return Cursor(database: self, iterator: iterator, readOptions: readOptions)
        }
    }

    /// Reads `range` of a column family as a Swift sequence inside `body`. **Blocks**.
    ///
    ///     let newest = try db.scan(in: family, range: .prefix(p), direction: .reverse) { entries in
    ///         Array(entries.prefix(10))
    ///     }
    ///
    /// If RocksDB fails part-way (an I/O error, corruption), the sequence ends early and
    /// `scan` throws instead of returning `body`'s result, so a partial read is never
    /// mistaken for a complete one. Keep the entries inside `body`.
    public func scan<Result>(
        in columnFamily: ColumnFamily? = nil,
        range: KeyRange = .all,
        direction: ScanDirection = .forward,
        options: ReadOptions = ReadOptions(),
        _ body: (ScanEntries) throws -> Result
    ) throws -> Result {
        let entries = ScanEntries(database: self, columnFamily: columnFamily, range: range,
                                  direction: direction, options: options)
        let result = try body(entries)
        if let failure = entries.failure { throw failure }
        return result
    }

    /// A snapshot reads at its own database's sequence number; used on another database it
    /// would silently read the wrong point in time, so that is a programming error.
    private func makeReadOptions(_ options: ReadOptions, range: KeyRange = .all) -> OwnedReadOptions {
        if let snapshot = options.snapshot {
            precondition(snapshot.database === self, "a snapshot of \(snapshot.database.path) was used to read \(path)")
        }
        return OwnedReadOptions(options, range: range)
    }
}
