import CRocksDB
#if canImport(Glibc)
import Glibc
#endif

/// A byte string as the storage layer reads and writes it.
public typealias Bytes = [UInt8]

extension Array where Element == UInt8 {
    /// Calls `body` with a non-null C pointer to the bytes and their count.
    ///
    /// RocksDB's C API reads a null key pointer as "absent" in some calls (range bounds), so
    /// an empty key is still passed as a valid address.
    @inline(__always)
    func withCBytes<Result>(_ body: (UnsafePointer<CChar>, Int) throws -> Result) rethrows -> Result {
        try withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, buffer.count > 0 else {
                let empty: CChar = 0
                return try withUnsafePointer(to: empty) { try body($0, 0) }
            }
            return try base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                try body($0, buffer.count)
            }
        }
    }

    /// Copies `count` bytes from a C buffer RocksDB owns.
    init(copying pointer: UnsafePointer<CChar>?, count: Int) {
        guard let pointer, count > 0 else {
            self = []
            return
        }
        self = pointer.withMemoryRebound(to: UInt8.self, capacity: count) {
            Array(UnsafeBufferPointer(start: $0, count: count))
        }
    }
}

/// Calls `body` with a C array of C strings that live until `body` returns.
func withCStringArray<Result>(
    _ strings: [String],
    _ body: (UnsafePointer<UnsafePointer<CChar>?>) throws -> Result
) rethrows -> Result {
    let owned: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { owned.forEach { free($0) } }
    let borrowed: [UnsafePointer<CChar>?] = owned.map { $0.map { UnsafePointer($0) } }
    return try borrowed.withUnsafeBufferPointer { try body($0.baseAddress!) }
}

/// Takes ownership of a malloc'd C string RocksDB returned, copies it, and frees it.
func takeRocksDBString(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
    guard let pointer else { return nil }
    defer { rocksdb_free(pointer) }
    return String(cString: pointer)
}
