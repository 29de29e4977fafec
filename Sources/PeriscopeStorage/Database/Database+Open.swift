import CRocksDB
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

private let nextDatabaseSerial = Atomic<UInt64>(1)

extension Database {
    /// Opens (or creates) the database in `path`. **Blocks** on disk I/O.
    ///
    /// RocksDB requires every existing column family to be opened; families not named in
    /// `columnFamilies` are opened with `options.defaultColumnFamilyOptions`. Named families
    /// that do not exist are created when `options.createMissingColumnFamilies` is set, and
    /// are an error (`.columnFamilyNotFound`) otherwise.
    ///
    /// Errors: `.locked` when another process or another open in this process holds the
    /// directory; `.notFound` when it holds no database and `createIfMissing` is off (or the
    /// open is read-only);
    /// `.ioError` when the path cannot be used as a directory; `.corruption` for damaged files.
    public static func open(
        at path: String,
        options: DatabaseOptions = DatabaseOptions(),
        columnFamilies requested: [String: ColumnFamilyOptions] = [:]
    ) throws -> Database {
        let databaseOptions = OwnedOptions(columnFamily: options.defaultColumnFamilyOptions,
                                           environment: options.environment)
        databaseOptions.applyDatabaseSettings(options)

        // RocksDB creates the directory (for its LOG file) before it notices there is no
        // database; check first so a refused open leaves nothing behind.
        let exists = try databaseExists(at: path)
        if !options.createIfMissing || options.readOnly, !exists {
            throw StorageError(.notFound, operation: "open", path: path, message:
                "no database in this directory (CURRENT does not exist) and "
                + (options.readOnly ? "a read-only open creates none" : "createIfMissing is off"))
        }
        let existing = exists ? try existingColumnFamilies(at: path, options: databaseOptions) : []
        var names = existing.isEmpty ? [defaultColumnFamilyName] : existing
        let missing = requested.keys.filter { !names.contains($0) }.sorted()
        if !missing.isEmpty {
            guard options.createMissingColumnFamilies, !options.readOnly else {
                throw StorageError(.columnFamilyNotFound, operation: "open", path: path, message:
                    "column families \(missing) do not exist (existing: \(names.sorted()))")
            }
            names += missing
        }

        let familyOptions = names.map {
            OwnedOptions(columnFamily: requested[$0] ?? options.defaultColumnFamilyOptions,
                         environment: options.environment)
        }
        var handles = [OpaquePointer?](repeating: nil, count: names.count)
        let opened: OpaquePointer? = try withCStringArray(names) { cNames in
            let optionPointers: [OpaquePointer?] = familyOptions.map(\.pointer)
            return try optionPointers.withUnsafeBufferPointer { optionBuffer in
                try handles.withUnsafeMutableBufferPointer { handleBuffer in
                    try withRocksDBError("open", path: path) { error in
                        options.readOnly
                            ? rocksdb_open_for_read_only_column_families(
                                databaseOptions.pointer, path, Int32(names.count), cNames,
                                optionBuffer.baseAddress, handleBuffer.baseAddress, 0, error)
                            : rocksdb_open_column_families(
                                databaseOptions.pointer, path, Int32(names.count), cNames,
                                optionBuffer.baseAddress, handleBuffer.baseAddress, error)
                    }
                }
            }
        }
        guard let opened else {
            throw StorageError(.unknown, operation: "open", path: path, message: "RocksDB returned neither a database nor an error")
        }

        let serial = nextDatabaseSerial.wrappingAdd(1, ordering: .relaxed).oldValue
        var families: [String: ColumnFamily] = [:]
        for (name, handle) in zip(names, handles) {
            guard let handle else { preconditionFailure("RocksDB opened \(path) but returned no handle for '\(name)'") }
            families[name] = ColumnFamily(handle: ColumnFamilyHandle(name: name, pointer: handle, databaseSerial: serial))
        }
        return Database(path: path, readOnly: options.readOnly, environment: options.environment,
                        pointer: opened, openOptions: databaseOptions, serial: serial, columnFamilies: families)
    }

    /// The column families of the database in `path`. **Blocks**.
    public static func listColumnFamilies(at path: String, environment: StorageEnvironment = .shared) throws -> [String] {
        let options = OwnedOptions(columnFamily: ColumnFamilyOptions(), environment: environment)
        guard try databaseExists(at: path) else {
            throw StorageError(.notFound, operation: "list column families", path: path, message: "no database in this directory")
        }
        return try existingColumnFamilies(at: path, options: options)
    }

    private static func existingColumnFamilies(at path: String, options: OwnedOptions) throws -> [String] {
        var count = 0
        let list = try withRocksDBError(
            "list column families", path: path,
            releasingOnError: { list in if let list { rocksdb_list_column_families_destroy(list, count) } }
        ) { error in
            rocksdb_list_column_families(options.pointer, path, &count, error)
        }
        guard let list else { return [] }
        defer { rocksdb_list_column_families_destroy(list, count) }
        return (0..<count).compactMap { list[$0].map { String(cString: $0) } }
    }

    /// RocksDB's CURRENT file names the live manifest; its presence means "a database is here".
    /// Only "no such file" means absent: a directory we may not read, or a path through a
    /// regular file, is an error of its own, not an empty place to create a database in.
    private static func databaseExists(at path: String) throws -> Bool {
        if access(path + "/CURRENT", F_OK) == 0 { return true }
        let code = errno
        if code == ENOENT { return false }
        let reason = String(cString: strerror(code))
        throw StorageError(.ioError, operation: "open", path: path, message: "cannot use this path as a database directory: \(reason)")
    }
}
