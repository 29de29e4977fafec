import CRocksDB

/// Writes a sorted SST file outside any database, for `Database.ingest` (bulk load, Raft
/// snapshot transfer). Keys must be added in strictly increasing order. **Blocks** on I/O.
public final class SSTFileWriter {
    public let path: String
    private let writer: OpaquePointer  // rocksdb_sstfilewriter_t*
    private let environmentOptions: OpaquePointer  // rocksdb_envoptions_t*
    /// Must match the options of the column family the file will be ingested into.
    private let options: OwnedOptions
    private var lastKey: Bytes?
    private var isFinished = false
    public private(set) var entryCount = 0

    public init(path: String, options: ColumnFamilyOptions = ColumnFamilyOptions(), environment: StorageEnvironment = .shared) throws {
        // Open with locals first: once every stored property is set, a throw would run
        // `deinit` too, and the handles would be destroyed twice.
        let ownedOptions = OwnedOptions(columnFamily: options, environment: environment)
        let environmentOptions = rocksdb_envoptions_create()!
        let writer = rocksdb_sstfilewriter_create(environmentOptions, ownedOptions.pointer)!
        do {
            try withRocksDBError("open SST file", path: path) { rocksdb_sstfilewriter_open(writer, path, $0) }
        } catch {
            rocksdb_sstfilewriter_destroy(writer)
            rocksdb_envoptions_destroy(environmentOptions)
            throw error
        }
        self.path = path
        self.options = ownedOptions
        self.environmentOptions = environmentOptions
        self.writer = writer
    }

    deinit {
        rocksdb_sstfilewriter_destroy(writer)
        rocksdb_envoptions_destroy(environmentOptions)
    }

    public func put(_ key: Bytes, _ value: Bytes) throws {
        try checkOrder(key)
        try key.withCBytes { keyPointer, keyCount in
            try value.withCBytes { valuePointer, valueCount in
                try withRocksDBError("SST put", path: path) { error in
                    rocksdb_sstfilewriter_put(writer, keyPointer, keyCount, valuePointer, valueCount, error)
                }
            }
        }
        accept(key)
    }

    public func delete(_ key: Bytes) throws {
        try checkOrder(key)
        try key.withCBytes { keyPointer, keyCount in
            try withRocksDBError("SST delete", path: path) { error in
                rocksdb_sstfilewriter_delete(writer, keyPointer, keyCount, error)
            }
        }
        accept(key)
    }

    /// Completes the file; returns its size in bytes. The writer cannot be used afterwards.
    @discardableResult
    public func finish() throws -> Int {
        guard !isFinished else {
            throw StorageError(.invalidArgument, operation: "finish SST file", path: path, message: "already finished")
        }
        try withRocksDBError("finish SST file", path: path) { rocksdb_sstfilewriter_finish(writer, $0) }
        isFinished = true
        var size: UInt64 = 0
        rocksdb_sstfilewriter_file_size(writer, &size)
        return Int(size)
    }

    /// RocksDB enforces the order too, but its message does not name the keys.
    private func checkOrder(_ key: Bytes) throws {
        guard !isFinished else {
            throw StorageError(.invalidArgument, operation: "SST write", path: path, message: "the file is already finished")
        }
        if let lastKey, !lastKey.lexicographicallyPrecedes(key) {
            throw StorageError(.invalidArgument, operation: "SST write", path: path,
                               message: "keys must be added in strictly increasing order: \(key) after \(lastKey)")
        }
    }

    private func accept(_ key: Bytes) {
        lastKey = key
        entryCount += 1
    }
}
