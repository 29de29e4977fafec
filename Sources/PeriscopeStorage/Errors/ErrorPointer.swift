import CRocksDB

/// Runs a RocksDB C call that reports failure through a `char** errptr`, and turns a
/// non-null error into a `StorageError`. The C string is freed on every path.
///
/// Some calls allocate their result even when they fail (`rocksdb_list_column_families`
/// returns an array, `rocksdb_create_column_family` a handle wrapper); pass
/// `releasingOnError` to free it, or it leaks.
@inline(__always)
func withRocksDBError<Result>(
    _ operation: String,
    path: String?,
    releasingOnError release: (Result) -> Void = { _ in },
    _ call: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Result
) throws -> Result {
    var error: UnsafeMutablePointer<CChar>? = nil
    let result = call(&error)
    if let message = takeRocksDBString(error) {
        release(result)
        throw StorageError.fromRocksDB(message, operation: operation, path: path)
    }
    return result
}
