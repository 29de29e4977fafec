import CRocksDB

extension Database {
    /// Stores `value` under `key`. **Blocks**; with `.durable` (the default) until fsync.
    public func put(_ key: Bytes, _ value: Bytes, in columnFamily: ColumnFamily? = nil, options: WriteOptions = .durable) throws {
        try performWrite("put", columnFamily, options) { database, writeOptions, family, error in
            key.withCBytes { keyPointer, keyCount in
                value.withCBytes { valuePointer, valueCount in
                    rocksdb_put_cf(database, writeOptions, family, keyPointer, keyCount, valuePointer, valueCount, error)
                }
            }
        }
    }

    /// Removes `key` (a no-op if absent). **Blocks**.
    public func delete(_ key: Bytes, in columnFamily: ColumnFamily? = nil, options: WriteOptions = .durable) throws {
        try performWrite("delete", columnFamily, options) { database, writeOptions, family, error in
            key.withCBytes { rocksdb_delete_cf(database, writeOptions, family, $0, $1, error) }
        }
    }

    /// Removes every key in `[start, end)` with one range tombstone: cost independent of how
    /// many keys it covers (retention drops whole time partitions this way). **Blocks**.
    public func deleteRange(from start: Bytes, to end: Bytes, in columnFamily: ColumnFamily? = nil, options: WriteOptions = .durable) throws {
        try checkRangeOrder(start, end, operation: "delete range", path: path)
        try performWrite("delete range", columnFamily, options) { database, writeOptions, family, error in
            start.withCBytes { startPointer, startCount in
                end.withCBytes { endPointer, endCount in
                    rocksdb_delete_range_cf(database, writeOptions, family, startPointer, startCount, endPointer, endCount, error)
                }
            }
        }
    }

    /// Applies every operation of `batch` atomically, across column families. **Blocks**.
    public func write(_ batch: WriteBatch, options: WriteOptions = .durable) throws {
        if let owner = batch.databaseSerial {
            precondition(owner == serial, "a WriteBatch built for another database was written to \(path)")
        }
        try performWrite("write batch", nil, options) { database, writeOptions, _, error in
            rocksdb_write(database, writeOptions, batch.pointer, error)
        }
    }

    /// The steps every write shares: refuse on a read-only database, take a lease, build the
    /// C write options, and turn RocksDB's error into a `StorageError`.
    private func performWrite(
        _ operation: String,
        _ columnFamily: ColumnFamily?,
        _ options: WriteOptions,
        _ call: (_ database: OpaquePointer, _ writeOptions: OpaquePointer, _ family: OpaquePointer,
                 _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Void
    ) throws {
        try requireWritable(operation)
        try withLease(operation, columnFamily) { database, family in
            try withCWriteOptions(options) { writeOptions in
                try withRocksDBError(operation, path: path) { error in call(database, writeOptions, family, error) }
            }
        }
    }
}
