import CRocksDB

/// Runs a RocksDB C call that reports failure through a `char** errptr`, and turns a
/// non-null error into a `StorageError`. The C string is freed on every path.
@inline(__always)
func withRocksDBError<Result>(
    _ operation: String,
    path: String?,
    _ call: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Result
) throws -> Result {
    var error: UnsafeMutablePointer<CChar>? = nil
    let result = call(&error)
    if let message = takeRocksDBString(error) {
        throw StorageError.fromRocksDB(message, operation: operation, path: path)
    }
    return result
}
