import CRocksDB

/// A RocksDB iterator over one column family, steered by hand.
///
/// Every move returns whether the cursor now rests on an entry; when it does not because
/// RocksDB failed (rather than because the range ended), the move throws. Not thread-safe:
/// use a cursor from one thread at a time. It keeps its database (and snapshot) alive, and
/// the database refuses to `close()` while it exists.
public final class Cursor {
    let database: Database
    private let iterator: OpaquePointer  // rocksdb_iterator_t*
    /// Owns the bounds' memory and the snapshot the iterator reads from; must outlive it.
    private let readOptions: OwnedReadOptions

    init(database: Database, iterator: OpaquePointer, readOptions: OwnedReadOptions) {
        self.database = database
        self.iterator = iterator
        self.readOptions = readOptions
    }

    deinit {
        rocksdb_iter_destroy(iterator)
        database.lifecycle.withLock { $0.openCursors -= 1 }
    }

    public var isValid: Bool { rocksdb_iter_valid(iterator) != 0 }

    /// The current key. The cursor must be valid.
    public var key: Bytes {
        precondition(isValid, "Cursor.key read while the cursor rests on no entry")
        var count = 0
        return Bytes(copying: rocksdb_iter_key(iterator, &count), count: count)
    }

    /// The current value. The cursor must be valid.
    public var value: Bytes {
        precondition(isValid, "Cursor.value read while the cursor rests on no entry")
        var count = 0
        return Bytes(copying: rocksdb_iter_value(iterator, &count), count: count)
    }

    public var entry: KeyValue { KeyValue(key: key, value: value) }

    @discardableResult
    public func seekToFirst() throws -> Bool {
        rocksdb_iter_seek_to_first(iterator)
        return try settle("seek to first")
    }

    @discardableResult
    public func seekToLast() throws -> Bool {
        rocksdb_iter_seek_to_last(iterator)
        return try settle("seek to last")
    }

    /// Moves to the first entry at or after `target`.
    @discardableResult
    public func seek(to target: Bytes) throws -> Bool {
        target.withCBytes { rocksdb_iter_seek(iterator, $0, $1) }
        return try settle("seek")
    }

    /// Moves to the last entry at or before `target`.
    @discardableResult
    public func seek(toLastAtOrBefore target: Bytes) throws -> Bool {
        target.withCBytes { rocksdb_iter_seek_for_prev(iterator, $0, $1) }
        return try settle("seek for previous")
    }

    @discardableResult
    public func next() throws -> Bool {
        precondition(isValid, "Cursor.next() on a cursor that rests on no entry")
        rocksdb_iter_next(iterator)
        return try settle("next")
    }

    @discardableResult
    public func previous() throws -> Bool {
        precondition(isValid, "Cursor.previous() on a cursor that rests on no entry")
        rocksdb_iter_prev(iterator)
        return try settle("previous")
    }

    private func settle(_ operation: String) throws -> Bool {
        if isValid { return true }
        var error: UnsafeMutablePointer<CChar>? = nil
        rocksdb_iter_get_error(iterator, &error)
        if let message = takeRocksDBString(error) {
            throw StorageError.fromRocksDB(message, operation: "cursor \(operation)", path: database.path)
        }
        return false
    }
}
