import Foundation
import PeriscopeStorage

/// A fresh directory under the system temp dir, removed with everything in it on deinit.
final class TemporaryDirectory {
    let path: String

    init() {
        var template = Array((NSTemporaryDirectory() + "periscope-storage-XXXXXX").utf8CString)
        guard let created = mkdtemp(&template) else { fatalError("mkdtemp failed: errno \(errno)") }
        path = String(cString: created)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A path inside this directory that does not exist yet.
    func child(_ name: String) -> String { path + "/" + name }
}

extension Bytes {
    init(_ string: String) { self = Array(string.utf8) }
}

extension String {
    var bytes: Bytes { Array(utf8) }
}

/// Asserts-friendly wrapper: the `StorageError` a closure throws, or nil.
func storageError(_ body: () throws -> Void) -> StorageError? {
    do {
        try body()
        return nil
    } catch let error as StorageError {
        return error
    } catch {
        return StorageError(.unknown, operation: "test", message: "unexpected error type: \(error)")
    }
}

/// Small environment so tests do not reserve the default 256 MiB cache each.
let testEnvironment = StorageEnvironment(.init(blockCacheBytes: 8 << 20, compactionThreads: 1, flushThreads: 1))

func testOptions(_ configure: (inout DatabaseOptions) -> Void = { _ in }) -> DatabaseOptions {
    var options = DatabaseOptions(environment: testEnvironment)
    configure(&options)
    return options
}
