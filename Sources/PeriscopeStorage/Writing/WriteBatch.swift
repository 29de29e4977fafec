import CRocksDB

/// Operations on one or more column families of one database, applied atomically by
/// `Database.write`. Built in memory (no I/O); not thread-safe.
public final class WriteBatch {
    let pointer: OpaquePointer  // rocksdb_writebatch_t*
    /// The database whose column families this batch names; a batch serves one database.
    private(set) var databaseSerial: UInt64?

    public init() {
        pointer = rocksdb_writebatch_create()
    }

    deinit { rocksdb_writebatch_destroy(pointer) }

    /// Operations recorded so far.
    public var count: Int { Int(rocksdb_writebatch_count(pointer)) }

    /// The batch's serialized size, what it will add to the write-ahead log.
    public var byteCount: Int {
        var size = 0
        _ = rocksdb_writebatch_data(pointer, &size)
        return size
    }

    public func put(_ key: Bytes, _ value: Bytes, in family: ColumnFamily) throws {
        try record("put", family) { handle in
            key.withCBytes { keyPointer, keyCount in
                value.withCBytes { valuePointer, valueCount in
                    rocksdb_writebatch_put_cf(pointer, handle, keyPointer, keyCount, valuePointer, valueCount)
                }
            }
        }
    }

    public func delete(_ key: Bytes, in family: ColumnFamily) throws {
        try record("delete", family) { handle in
            key.withCBytes { rocksdb_writebatch_delete_cf(pointer, handle, $0, $1) }
        }
    }

    /// Removes every key in `[start, end)` when the batch is written.
    public func deleteRange(from start: Bytes, to end: Bytes, in family: ColumnFamily) throws {
        try checkRangeOrder(start, end, operation: "batch delete range", path: nil)
        try record("delete range", family) { handle in
            start.withCBytes { startPointer, startCount in
                end.withCBytes { endPointer, endCount in
                    rocksdb_writebatch_delete_range_cf(pointer, handle, startPointer, startCount, endPointer, endCount)
                }
            }
        }
    }

    public func clear() {
        rocksdb_writebatch_clear(pointer)
        databaseSerial = nil
    }

    private func record(_ operation: String, _ family: ColumnFamily, _ body: (OpaquePointer) -> Void) throws {
        let owner = family.handle.databaseSerial
        precondition(databaseSerial == nil || databaseSerial == owner,
                     "a WriteBatch cannot span databases (column family '\(family.name)')")
        // The C call reads the family's id through its handle, so it runs under the handle's
        // lock: the database cannot close and free the handle in the middle.
        try family.handle.withPointerLocked(operation: "batch \(operation)", path: "", body)
        databaseSerial = owner
    }
}
