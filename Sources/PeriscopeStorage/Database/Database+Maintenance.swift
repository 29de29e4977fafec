import CRocksDB

extension Database {
    /// Writes the write-ahead log's buffer to its file and fsyncs it: every write made
    /// before the call, durable or buffered, then survives a machine crash. A way to make a
    /// run of buffered writes durable at once. **Blocks** for an fsync.
    public func syncWriteAheadLog() throws {
        try requireWritable("sync the write-ahead log")
        try withLease("sync the write-ahead log") { database in
            try withRocksDBError("sync the write-ahead log", path: path) { rocksdb_flush_wal(database, 1, $0) }
        }
    }

    /// Writes the memtable of a column family (default: all of them) to SST files. **Blocks**.
    public func flush(_ columnFamily: ColumnFamily? = nil) throws {
        try requireWritable("flush")
        let options = rocksdb_flushoptions_create()!
        defer { rocksdb_flushoptions_destroy(options) }
        rocksdb_flushoptions_set_wait(options, 1)
        if let columnFamily {
            try withLease("flush", columnFamily) { database, family in
                try withRocksDBError("flush", path: path) { rocksdb_flush_cf(database, options, family, $0) }
            }
        } else {
            // Every live family under one lease: a closed database throws instead of
            // "flushing" nothing, and a family dropped meanwhile cannot stop it half-way.
            try withLease("flush") { database in
                let families = lifecycle.withLock { Array($0.columnFamilies.values) }
                for family in families.sorted(by: { $0.name < $1.name }) {
                    let handle = try family.handle.livePointer(operation: "flush", path: path)
                    try withRocksDBError("flush", path: path) { rocksdb_flush_cf(database, options, handle, $0) }
                }
            }
        }
    }

    /// Compacts the keys of `range` down to the bottom level. **Blocks**, possibly for long:
    /// used after bulk deletes (retention) to reclaim space now rather than eventually.
    ///
    /// RocksDB 7.8's C API returns no status for this call, so a compaction that fails in the
    /// background (an I/O error) is not reported here; it surfaces as a background error on
    /// later writes and in RocksDB's LOG.
    public func compactRange(_ range: KeyRange = .all, in columnFamily: ColumnFamily? = nil) throws {
        try requireWritable("compact range")
        if let lower = range.lowerBound, let upper = range.upperBound {
            try checkRangeOrder(lower, upper, operation: "compact range", path: path)
        }
        try withLease("compact range", columnFamily) { database, family in
            func call(_ start: UnsafePointer<CChar>?, _ startCount: Int, _ end: UnsafePointer<CChar>?, _ endCount: Int) {
                rocksdb_compact_range_cf(database, family, start, startCount, end, endCount)
            }
            // A null pointer means "unbounded" here.
            switch (range.lowerBound, range.upperBound) {
            case (nil, nil): call(nil, 0, nil, 0)
            case (let lower?, nil): lower.withCBytes { call($0, $1, nil, 0) }
            case (nil, let upper?): upper.withCBytes { call(nil, 0, $0, $1) }
            case (let lower?, let upper?):
                lower.withCBytes { lowerPointer, lowerCount in
                    upper.withCBytes { call(lowerPointer, lowerCount, $0, $1) }
                }
            }
        }
    }

    /// Writes a consistent copy of the whole database into `directory`, which must not exist
    /// yet; the copy opens as a database of its own. SST files are hard-linked when on the
    /// same filesystem. Used for Raft snapshots. **Blocks**.
    public func createCheckpoint(at directory: String) throws {
        try withLease("checkpoint") { database in
            let checkpoint = try withRocksDBError("checkpoint", path: path) { error in
                rocksdb_checkpoint_object_create(database, error)
            }
            guard let checkpoint else {
                throw StorageError(.unknown, operation: "checkpoint", path: path, message: "RocksDB returned no checkpoint object")
            }
            defer { rocksdb_checkpoint_object_destroy(checkpoint) }
            // 0: always flush the memtables first, so the copy needs no WAL replay.
            try withRocksDBError("checkpoint", path: directory) { error in
                rocksdb_checkpoint_create(checkpoint, directory, 0, error)
            }
        }
    }

    /// Adds SST files made by `SSTFileWriter` to a column family, atomically. **Blocks**.
    ///
    /// - Parameter moveFiles: hard-link the files instead of copying them (the originals
    ///   must then not be reused).
    public func ingest(files: [String], into columnFamily: ColumnFamily? = nil, moveFiles: Bool = false) throws {
        try requireWritable("ingest")
        guard !files.isEmpty else { return }
        let options = rocksdb_ingestexternalfileoptions_create()!
        defer { rocksdb_ingestexternalfileoptions_destroy(options) }
        rocksdb_ingestexternalfileoptions_set_move_files(options, moveFiles ? 1 : 0)
        try withLease("ingest", columnFamily) { database, family in
            try withCStringArray(files) { names in
                try withRocksDBError("ingest", path: path) { error in
                    rocksdb_ingest_external_file_cf(database, family, names, files.count, options, error)
                }
            }
        }
    }
}
