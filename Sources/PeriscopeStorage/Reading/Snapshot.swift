import CRocksDB

/// A consistent, read-only view of a database as of the moment it was taken.
///
/// Pass it in `ReadOptions(snapshot:)`. Holding one pins the versions it sees (compaction
/// keeps them), so release it promptly: it is released when the last reference goes.
/// It keeps its database alive, and the database refuses to `close()` while it exists.
public final class Snapshot: @unchecked Sendable {
    // @unchecked: a RocksDB snapshot is immutable and safe to read from any thread.
    let database: Database
    let pointer: OpaquePointer  // const rocksdb_snapshot_t*

    init(database: Database, pointer: OpaquePointer) {
        self.database = database
        self.pointer = pointer
    }

    deinit {
        rocksdb_release_snapshot(database.pointer, pointer)
        database.lifecycle.withLock { $0.openSnapshots -= 1 }
    }
}
