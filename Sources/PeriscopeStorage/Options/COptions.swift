import CRocksDB

/// Owns one `rocksdb_options_t`, built from Periscope's option structs.
///
/// RocksDB's C API has one options type for both database-wide and column-family settings.
/// A database keeps the instance it was opened with alive for its whole life: the statistics
/// object (`Database.statistics()`) hangs off it.
final class OwnedOptions {
    let pointer: OpaquePointer

    init(columnFamily: ColumnFamilyOptions, environment: StorageEnvironment) {
        pointer = rocksdb_options_create()
        applyTableSettings(columnFamily, cache: environment.cache)
        applyColumnFamilySettings(columnFamily)
    }

    deinit { rocksdb_options_destroy(pointer) }

    func applyDatabaseSettings(_ options: DatabaseOptions) {
        rocksdb_options_set_create_if_missing(pointer, options.createIfMissing ? 1 : 0)
        rocksdb_options_set_error_if_exists(pointer, options.errorIfExists ? 1 : 0)
        // Open passes the full list of families itself; see Database.open.
        rocksdb_options_set_create_missing_column_families(pointer, 1)
        rocksdb_options_set_env(pointer, options.environment.env)
        rocksdb_options_set_max_open_files(pointer, Int32(options.maxOpenFiles))
        rocksdb_options_set_max_background_jobs(pointer, Int32(options.maxBackgroundJobs))
        rocksdb_options_set_max_log_file_size(pointer, options.infoLogFileBytesMax)
        rocksdb_options_set_keep_log_file_num(pointer, options.infoLogFilesKept)
        // Spread SST writeback instead of one large burst at the end of each file.
        rocksdb_options_set_bytes_per_sync(pointer, 1 << 20)
        if options.collectStatistics { rocksdb_options_enable_statistics(pointer) }
    }

    private func applyTableSettings(_ settings: ColumnFamilyOptions, cache: OpaquePointer) {
        let table = rocksdb_block_based_options_create()
        defer { rocksdb_block_based_options_destroy(table) }
        rocksdb_block_based_options_set_block_cache(table, cache)
        rocksdb_block_based_options_set_block_size(table, settings.blockBytes)
        rocksdb_block_based_options_set_format_version(table, 5)
        // Index and filter blocks compete for the shared cache instead of living outside it,
        // so memory stays bounded by the cache size however many shards a node hosts.
        rocksdb_block_based_options_set_cache_index_and_filter_blocks(table, 1)
        rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(table, 1)
        if let bits = settings.bloomFilterBitsPerKey {
            // The table options take ownership of the policy.
            rocksdb_block_based_options_set_filter_policy(table, rocksdb_filterpolicy_create_bloom_full(bits))
        }
        rocksdb_block_based_options_set_whole_key_filtering(table, settings.wholeKeyFiltering ? 1 : 0)
        // Copies the table options (and its shared cache reference) into a new table factory.
        rocksdb_options_set_block_based_table_factory(pointer, table)
    }

    private func applyColumnFamilySettings(_ settings: ColumnFamilyOptions) {
        rocksdb_options_set_write_buffer_size(pointer, settings.writeBufferBytes)
        rocksdb_options_set_compression(pointer, settings.compression.cValue)
        rocksdb_options_set_bottommost_compression(pointer, settings.bottommostCompression.cValue)
        rocksdb_options_set_level_compaction_dynamic_level_bytes(pointer, 1)
        if case .fixed(let length)? = settings.prefixExtractor {
            precondition(length > 0, "a fixed prefix extractor needs a positive length")
            // The options take ownership of the slice transform.
            rocksdb_options_set_prefix_extractor(pointer, rocksdb_slicetransform_create_fixed_prefix(length))
        }
        if settings.memtablePrefixBloomRatio > 0 {
            rocksdb_options_set_memtable_prefix_bloom_size_ratio(pointer, settings.memtablePrefixBloomRatio)
        }
    }
}

extension ColumnFamilyOptions.Compression {
    var cValue: Int32 {
        switch self {
        case .none: Int32(rocksdb_no_compression)
        case .lz4: Int32(rocksdb_lz4_compression)
        case .zstd: Int32(rocksdb_zstd_compression)
        }
    }
}

/// Owns one `rocksdb_readoptions_t` and the memory its bounds point into.
///
/// RocksDB's C API does not copy iterate bounds: it keeps a slice of the caller's bytes. The
/// bounds are therefore copied into buffers owned here, and a cursor keeps this object alive
/// at least as long as its iterator (it also retains the snapshot, if any).
final class OwnedReadOptions {
    let pointer: OpaquePointer
    private let snapshot: Snapshot?
    private var boundBuffers: [UnsafeMutableBufferPointer<CChar>] = []

    init(_ options: ReadOptions, range: KeyRange = .all) {
        pointer = rocksdb_readoptions_create()
        snapshot = options.snapshot
        if let snapshot = options.snapshot { rocksdb_readoptions_set_snapshot(pointer, snapshot.pointer) }
        rocksdb_readoptions_set_fill_cache(pointer, options.fillCache ? 1 : 0)
        rocksdb_readoptions_set_verify_checksums(pointer, options.verifyChecksums ? 1 : 0)
        if options.prefixSeek {
            rocksdb_readoptions_set_prefix_same_as_start(pointer, 1)
        } else {
            rocksdb_readoptions_set_total_order_seek(pointer, 1)
        }
        if let lower = range.lowerBound {
            let buffer = retain(lower)
            rocksdb_readoptions_set_iterate_lower_bound(pointer, buffer.baseAddress, buffer.count)
        }
        if let upper = range.upperBound {
            let buffer = retain(upper)
            rocksdb_readoptions_set_iterate_upper_bound(pointer, buffer.baseAddress, buffer.count)
        }
    }

    deinit {
        rocksdb_readoptions_destroy(pointer)
        boundBuffers.forEach { $0.deallocate() }
    }

    private func retain(_ bytes: Bytes) -> UnsafeMutableBufferPointer<CChar> {
        let buffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: max(bytes.count, 1))
        bytes.withUnsafeBytes { source in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
        }
        boundBuffers.append(buffer)
        return UnsafeMutableBufferPointer(rebasing: buffer[0..<bytes.count])
    }
}

/// Calls `body` with a C write-options handle that lives until `body` returns.
func withCWriteOptions<Result>(_ options: WriteOptions, _ body: (OpaquePointer) throws -> Result) rethrows -> Result {
    let pointer = rocksdb_writeoptions_create()!
    defer { rocksdb_writeoptions_destroy(pointer) }
    rocksdb_writeoptions_set_sync(pointer, options.sync ? 1 : 0)
    rocksdb_writeoptions_disable_WAL(pointer, options.disableWAL ? 1 : 0)
    return try body(pointer)
}
