import CRocksDB

extension Database {
    /// The names of the open column families, sorted.
    public var columnFamilyNames: [String] {
        lifecycle.withLock { $0.columnFamilies.keys.sorted() }
    }

    /// The open column family called `name`, if there is one.
    public func columnFamily(named name: String) -> ColumnFamily? {
        lifecycle.withLock { $0.columnFamilies[name] }
    }

    /// The open column family called `name`, or `.columnFamilyNotFound`.
    public func requireColumnFamily(_ name: String) throws -> ColumnFamily {
        guard let family = columnFamily(named: name) else {
            throw StorageError(.columnFamilyNotFound, operation: "column family", path: path,
                               message: "no column family '\(name)' (open: \(columnFamilyNames))")
        }
        return family
    }

    /// Creates a column family. **Blocks**. `.columnFamilyExists` if the name is taken.
    @discardableResult
    public func createColumnFamily(_ name: String, options: ColumnFamilyOptions = ColumnFamilyOptions()) throws -> ColumnFamily {
        let operation = "create column family"
        try requireWritable(operation)
        guard columnFamily(named: name) == nil else {
            throw StorageError(.columnFamilyExists, operation: operation, path: path,
                               message: "column family '\(name)' already exists")
        }
        let familyOptions = OwnedOptions(columnFamily: options, environment: environment)
        let family = try withLease(operation) { database -> ColumnFamily in
            let handle = try withRocksDBError(
                operation, path: path,
                releasingOnError: { handle in if let handle { rocksdb_column_family_handle_destroy(handle) } }
            ) { error in
                rocksdb_create_column_family(database, familyOptions.pointer, name, error)
            }
            guard let handle else {
                throw StorageError(.unknown, operation: operation, path: path, message: "no handle for '\(name)'")
            }
            let family = ColumnFamily(handle: ColumnFamilyHandle(name: name, pointer: handle, databaseSerial: serial))
            // Registered while the lease is held, so a racing close() destroys this handle too.
            lifecycle.withLock { $0.columnFamilies[name] = family }
            return family
        }
        return family
    }

    /// Drops a column family and all its data. **Blocks**. The default family cannot be dropped.
    /// Later uses of `family` throw `.columnFamilyDropped`.
    public func dropColumnFamily(_ family: ColumnFamily) throws {
        let operation = "drop column family"
        try requireWritable(operation)
        try withLease(operation, family) { database, handle in
            try withRocksDBError(operation, path: path) { error in
                rocksdb_drop_column_family(database, handle, error)
            }
            family.handle.markDropped()
            lifecycle.withLock { state in
                state.columnFamilies[family.name] = nil
                state.droppedHandles.append(family.handle)
            }
        }
    }
}
