import CRocksDB
import Synchronization

/// An open RocksDB database directory: the single owner of its `rocksdb_t`.
///
/// Thread-safe: any thread may read and write concurrently (RocksDB's own guarantee), but
/// every call **blocks** on disk I/O; call it from a `StorageExecutor` thread.
///
/// Lifetime. The database closes when `close()` succeeds or, failing that, when the last
/// reference goes. Cursors and snapshots hold a strong reference, so they cannot outlive it,
/// and `close()` refuses (`.inUse`) while any of them, or any call, is still running: a
/// closed database is never touched again, and a call after close throws `.closed`.
public final class Database: @unchecked Sendable {
    // @unchecked: `pointer` is immutable and RocksDB's DB is thread-safe; all mutable state
    // lives in `lifecycle`, behind its lock.

    struct Lifecycle {
        var isClosed = false
        var callsInFlight = 0
        var openCursors = 0
        var openSnapshots = 0
        var columnFamilies: [String: ColumnFamily]
        /// Dropped families' handles, destroyed with the database (RocksDB allows that, and
        /// it keeps any copy of a dropped `ColumnFamily` from pointing at freed memory).
        var droppedHandles: [ColumnFamilyHandle] = []
    }

    public let path: String
    public let isReadOnly: Bool
    public let environment: StorageEnvironment
    public let defaultColumnFamily: ColumnFamily

    /// Distinguishes databases for the lifetime of the process (addresses can be reused).
    let serial: UInt64
    let pointer: OpaquePointer  // rocksdb_t*
    /// The options the database was opened with; owns the statistics object.
    let openOptions: OwnedOptions
    let lifecycle: Mutex<Lifecycle>

    init(path: String, readOnly: Bool, environment: StorageEnvironment, pointer: OpaquePointer,
         openOptions: OwnedOptions, serial: UInt64, columnFamilies: [String: ColumnFamily]) {
        self.path = path
        self.isReadOnly = readOnly
        self.environment = environment
        self.pointer = pointer
        self.openOptions = openOptions
        self.serial = serial
        guard let defaultFamily = columnFamilies[Database.defaultColumnFamilyName] else {
            preconditionFailure("RocksDB opened \(path) without its default column family: \(columnFamilies.keys)")
        }
        self.defaultColumnFamily = defaultFamily
        self.lifecycle = Mutex(Lifecycle(columnFamilies: columnFamilies))
    }

    deinit {
        let handles = lifecycle.withLock { state -> [ColumnFamilyHandle]? in
            state.isClosed ? nil : takeHandlesForClose(&state)
        }
        if let handles { destroy(handles) }
    }

    public static let defaultColumnFamilyName = "default"

    /// Whether `close()` has completed.
    public var isClosed: Bool { lifecycle.withLock { $0.isClosed } }

    /// Closes the database and releases its LOCK. Idempotent.
    ///
    /// Throws `.inUse` (and closes nothing) while cursors, snapshots or calls are still open:
    /// finish or drop them first.
    public func close() throws {
        let handles = try lifecycle.withLock { state -> [ColumnFamilyHandle]? in
            if state.isClosed { return nil }
            guard state.callsInFlight == 0, state.openCursors == 0, state.openSnapshots == 0 else {
                throw StorageError(.inUse, operation: "close", path: path, message:
                    "still in use: \(state.openCursors) cursor(s), \(state.openSnapshots) snapshot(s), "
                    + "\(state.callsInFlight) call(s) in flight")
            }
            return takeHandlesForClose(&state)
        }
        if let handles { destroy(handles) }
    }

    private func takeHandlesForClose(_ state: inout Lifecycle) -> [ColumnFamilyHandle] {
        state.isClosed = true
        defer {
            state.columnFamilies = [:]
            state.droppedHandles = []
        }
        return state.columnFamilies.values.map(\.handle) + state.droppedHandles
    }

    private func destroy(_ handles: [ColumnFamilyHandle]) {
        // Column family handles must go before the database that created them.
        handles.forEach { $0.release() }
        rocksdb_close(pointer)
    }
}

// MARK: - Leases: how every call reaches the C handle

extension Database {
    /// Runs `body` with the database pointer, holding a lease that keeps `close()` away.
    func withLease<Result>(_ operation: String, _ body: (OpaquePointer) throws -> Result) throws -> Result {
        try lifecycle.withLock { state in
            guard !state.isClosed else {
                throw StorageError(.closed, operation: operation, path: path, message: "the database is closed")
            }
            state.callsInFlight += 1
        }
        defer { lifecycle.withLock { $0.callsInFlight -= 1 } }
        return try body(pointer)
    }

    /// Like `withLease`, also resolving a column family (the default one when `nil`).
    func withLease<Result>(
        _ operation: String,
        _ columnFamily: ColumnFamily?,
        _ body: (OpaquePointer, OpaquePointer) throws -> Result
    ) throws -> Result {
        let family = columnFamily ?? defaultColumnFamily
        precondition(family.handle.databaseSerial == serial,
                     "column family '\(family.name)' belongs to another database than \(path)")
        return try withLease(operation) { database in
            try body(database, family.handle.livePointer(operation: operation, path: path))
        }
    }

    /// Read-only databases refuse writes before RocksDB sees them, with a clearer message.
    func requireWritable(_ operation: String) throws {
        guard !isReadOnly else {
            throw StorageError(.notSupported, operation: operation, path: path,
                               message: "the database was opened read-only")
        }
    }
}
