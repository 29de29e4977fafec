import Foundation
import Testing
@testable import PeriscopeStorage

@Suite struct ExecutorAndErrorTests {
    @Test func executorRunsBlockingCallsOnItsOwnThreads() async throws {
        let executor = StorageExecutor(threadCount: 2)
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.path, options: testOptions())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<64 {
                group.addTask { try await executor.run { try db.put("k\(i)".bytes, "v\(i)".bytes) } }
            }
            try await group.waitForAll()
        }
        let (value, threadName) = try await executor.run { (try db.get("k63".bytes), currentThreadName()) }
        #expect(value == "v63".bytes)
        #expect(threadName.hasPrefix("TP-#"), "ran on '\(threadName)', not one of NIOThreadPool's threads")

        try await executor.shutdown()
        await #expect(throws: StorageError.self) { try await executor.run { 1 } }
    }

    @Test(arguments: [
        ("IO error: While lock file: /d/LOCK: Resource temporarily unavailable", StorageError.Code.locked),
        ("IO error: lock hold by current process, acquire time 1 acquiring thread 2: /d/LOCK: No locks available", .locked),
        ("IO error: No space left on device: /d/000123.log", .noSpace),
        ("IO error: While opening a file for sequentially reading: /d/CURRENT: No such file or directory", .ioError),
        ("Invalid argument: /d/CURRENT: does not exist (create_if_missing is false)", .invalidArgument),
        ("Invalid argument: Column family not found: x", .columnFamilyNotFound),
        ("Corruption: checksum mismatch", .corruption),
        ("Not implemented: Not supported operation in read only mode.", .notSupported),
        ("Resource busy: ", .busy),
        ("Operation failed. Try again.: ", .tryAgain),
        ("something new", .unknown),
    ])
    func rocksDBMessagesAreClassified(message: String, code: StorageError.Code) {
        let error = StorageError.fromRocksDB(message, operation: "test", path: nil)
        #expect(error.code == code)
        #expect(error.message == message, "RocksDB's text is kept verbatim")
    }

    @Test func errorDescriptionSaysWhatWhereAndWhy() {
        let error = StorageError(.locked, operation: "open", path: "/data/shard-1", message: "IO error: ... LOCK ...")
        #expect(error.description == "storage open on /data/shard-1 failed (locked): IO error: ... LOCK ...")
    }
}

private func currentThreadName() -> String { Thread.current.name ?? "" }
