/// PeriscopeStorage: RocksDB, through its C API, made safe for the rest of Periscope.
///
/// What it owns: every RocksDB handle a Periscope process opens (databases, column families,
/// iterators, snapshots, write batches, SST writers, options), the process-wide block cache and
/// background-thread environment, and the executor blocking storage calls run on.
///
/// Rules it keeps (see docs/design.md, "Storage layer"):
/// - No C type crosses its public API. `CRocksDB` is imported here and nowhere else.
/// - Each C handle has exactly one Swift owner that frees it in `deinit` (or, for the
///   database, in an explicit `close()`); children (cursors, snapshots) keep their database
///   alive, so they can never outlive it.
/// - RocksDB errors become `StorageError` in one place (`StorageError.fromRocksDB`).
/// - Every call that touches the disk is synchronous and **blocks**. Run it on a
///   `StorageExecutor`, never on a NIO event loop or Swift's cooperative pool.
///
/// What it must not do: know anything about records, shards or Raft. Keys and values are bytes.
public enum PeriscopeStorageModule {}
