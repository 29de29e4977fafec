import CRocksDB

extension Database {
    /// Stores `value` under `key`. **Blocks**; with `.durable` (the default) until fsync.
    public func put(_ key: Bytes, _ value: Bytes, in columnFamily: ColumnFamily? = nil, options: WriteOptions = .durable) throws {
        try requireWritable("put")
        try withLease("put", columnFamily) { database, family in
            try withCWriteOptions(options) { writeOptions in
                try key.withCBytes { keyPointer, keyCount in
                    try value.withCBytes { valuePointer, valueCount in
                        try withRocksDBError("put", path: path) { error in
                            rocksdb_put_cf(database, writeOptions, family, keyPointer, keyCount, valuePointer, valueCount, error)
                        }
                    }
                }
            }
        }
    }

    /// Removes `key` (a no-op if absent). **Blocks**.
    public func delete(_ key: Bytes, in columnFamily: ColumnFamily? = nil, options: WriteOptions = .durable) throws {
        try requireWritable("delete")
        try withLease("delete", columnFamily) { database, family in
            try withCWriteOptions(options) { writeOptions in
                try key.withCBytes { keyPointer, keyCount in
                    try withRocksDBError("delete", path: path) { error in
                        rocksdb_delete_cf(database, writeOptions, family, keyPointer, keyCount, error)
                    }
                }
            }
        }
    }

    /// Removes every key in `[start, end)` with one range tombstone: cost independent of how
    /// many keys it covers (retention drops whole time partitions this way). **Blocks**.
    public func deleteRange(from start: Bytes, to end: Bytes, in columnFamily: ColumnFamily? = nil, options: WriteOptions = .durable) throws {
        try requireWritable("delete range")
        try checkRangeOrder(start, end, operation: "delete range")
        try withLease("delete range", columnFamily) { database, family in
            try withCWriteOptions(options) { writeOptions in
                try start.withCBytes { startPointer, startCount in
                    try end.withCBytes { endPointer, endCount in
                        try withRocksDBError("delete range", path: path) { error in
                            rocksdb_delete_range_cf(database, writeOptions, family, startPointer, startCount, endPointer, endCount, error)
                        }
                    }
                }
            }
        }
    }

    /// Applies every operation of `batch` atomically, across column families. **Blocks**.
    public func write(_ batch: WriteBatch, options: WriteOptions = .durable) throws {
        try requireWritable("write batch")
        if let owner = batch.databaseSerial {
            precondition(owner == serial, "a WriteBatch built for another database was written to \(path)")
        }
        try withLease("write batch") { database in
            try withCWriteOptions(options) { writeOptions in
                try withRocksDBError("write batch", path: path) { error in
                    rocksdb_write(database, writeOptions, batch.pointer, error)
                }
            }
        }
    }

    func checkRangeOrder(_ start: Bytes, _ end: Bytes, operation: String) throws {
        guard !end.lexicographicallyPrecedes(start) else {
            throw StorageError(.invalidArgument, operation: operation, path: path,
                               message: "range end \(end) sorts before its start \(start)")
        }
    }
}
