import CRocksDB
import Synchronization

/// A column family of one open database: a name to pass to reads and writes.
///
/// A value, cheap to copy and safe to share. It holds no C pointer that could dangle: the
/// handle behind it is owned by its `Database`, destroyed only when that database closes,
/// and every use checks that the database is still open and the family not dropped.
public struct ColumnFamily: Sendable, Hashable, CustomStringConvertible {
    public var name: String { handle.name }
    let handle: ColumnFamilyHandle

    init(handle: ColumnFamilyHandle) { self.handle = handle }

    public static func == (lhs: ColumnFamily, rhs: ColumnFamily) -> Bool { lhs.handle === rhs.handle }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(handle)) }
    public var description: String { "ColumnFamily(\(name))" }
}

/// Owns one `rocksdb_column_family_handle_t`. Created and destroyed by its `Database`.
final class ColumnFamilyHandle: @unchecked Sendable {
    // @unchecked: the pointer and flags are only read or changed under `state`'s lock.
    // @unchecked: a C pointer is not Sendable; it only ever moves under the mutex.
    private struct State: @unchecked Sendable {
        var pointer: OpaquePointer?  // nil once the database has closed
        var isDropped = false
    }

    let name: String
    let databaseSerial: UInt64
    private let state: Mutex<State>

    init(name: String, pointer: OpaquePointer, databaseSerial: UInt64) {
        self.name = name
        self.databaseSerial = databaseSerial
        state = Mutex(State(pointer: pointer))
    }

    /// The live pointer, for callers that hold a lease on the database (which keeps the
    /// handle from being destroyed for the lease's duration).
    func livePointer(operation: String, path: String) throws -> OpaquePointer {
        try state.withLock { state in try Self.check(state, name: name, operation: operation, path: path) }
    }

    /// Runs `body` with the pointer while holding this handle's lock, for callers with no
    /// database lease (a `WriteBatch`). Keep `body` short: it only records a family id.
    func withPointerLocked<Result>(operation: String, path: String, _ body: (OpaquePointer) -> Result) throws -> Result {
        try state.withLock { state in body(try Self.check(state, name: name, operation: operation, path: path)) }
    }

    func markDropped() { state.withLock { $0.isDropped = true } }

    /// Forgets and destroys the C handle. Called by the database as it closes.
    func release() {
        let pointer = state.withLock { state -> OpaquePointer? in
            defer { state.pointer = nil }
            return state.pointer
        }
        if let pointer { rocksdb_column_family_handle_destroy(pointer) }
    }

    private static func check(_ state: State, name: String, operation: String, path: String) throws -> OpaquePointer {
        guard let pointer = state.pointer else {
            throw StorageError(.closed, operation: operation, path: path,
                               message: "column family '\(name)' belongs to a closed database")
        }
        guard !state.isDropped else {
            throw StorageError(.columnFamilyDropped, operation: operation, path: path,
                               message: "column family '\(name)' was dropped")
        }
        return pointer
    }
}
