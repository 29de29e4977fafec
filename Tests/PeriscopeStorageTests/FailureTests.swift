import Foundation
import Synchronization
import Testing
import PeriscopeStorage

@Suite struct FailureTests {
    /// Damaged data blocks in an SST file: the scan must fail, not return fewer entries as if
    /// the range had ended. Small blocks make many data blocks; the damage sits in the middle,
    /// so the open (which reads footers and indexes) succeeds and the scan walks into it.
    @Test func scanOverCorruptedDataThrowsInsteadOfEndingEarly() throws {
        let directory = TemporaryDirectory()
        let environment = StorageEnvironment(.init(blockCacheBytes: 1 << 20, compactionThreads: 1, flushThreads: 1))
        let family = ColumnFamilyOptions(blockBytes: 1024, compression: .none, bottommostCompression: .none)
        var options = DatabaseOptions(environment: environment, defaultColumnFamilyOptions: family)
        do {
            let db = try Database.open(at: directory.path, options: options)
            for i in 0..<20_000 {
                try db.put(Array(String(format: "key%06d", i).utf8), Bytes(repeating: UInt8(i % 251), count: 40), options: .buffered)
            }
            try db.flush()
            try db.close()
        }
        let tables = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sst") }
        let table = try #require(tables.first.map { directory.child($0) })
        let handle = try #require(FileHandle(forUpdatingAtPath: table))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 3)
        handle.write(Data(repeating: 0xAB, count: 4096))
        try handle.close()

        options.createIfMissing = false
        let db = try Database.open(at: directory.path, options: options)
        let error = storageError { _ = try db.scan { Array($0).count } }
        #expect(error?.code == .corruption, "\(String(describing: error))")

        let cursor = try db.makeCursor()
        let cursorError = storageError {
            var positioned = try cursor.seekToFirst()
            while positioned { positioned = try cursor.next() }
        }
        #expect(cursorError?.code == .corruption)
    }

    /// `close()` racing with calls on other threads: every call either completes or gets
    /// `.closed`, close either succeeds or reports `.inUse`, and nothing crashes.
    @Test func closeRacingWithCallsIsSafe() async throws {
        for round in 0..<20 {
            let directory = TemporaryDirectory()
            let db = try Database.open(at: directory.path, options: testOptions(), columnFamilies: ["side": .init()])
            let side = try db.requireColumnFamily("side")
            try db.put("k".bytes, "v".bytes)
            let outcomes = try await withThrowingTaskGroup(of: [StorageError.Code?].self) { group in
                for worker in 0..<3 {
                    group.addTask {
                        var seen: [StorageError.Code?] = []
                        for i in 0..<200 {
                            let error = storageError {
                                switch i % 4 {
                                case 0: _ = try db.get("k".bytes)
                                case 1: try db.put("w\(worker)-\(i)".bytes, [1], in: side, options: .buffered)
                                case 2:
                                    let batch = WriteBatch()
                                    try batch.put("b\(worker)".bytes, [2], in: side)
                                    try db.write(batch, options: .buffered)
                                default: _ = try db.scan(range: .prefix("k".bytes)) { Array($0).count }
                                }
                            }
                            seen.append(error?.code)
                        }
                        return seen
                    }
                }
                group.addTask {
                    var closeErrors: [StorageError.Code?] = []
                    while !db.isClosed {
                        closeErrors.append(storageError { try db.close() }?.code)
                    }
                    return closeErrors
                }
                var all: [StorageError.Code?] = []
                for try await codes in group { all += codes }
                return all
            }
            let unexpected = outcomes.compactMap { $0 }.filter { $0 != .closed && $0 != .inUse }
            #expect(unexpected.isEmpty, "round \(round): \(unexpected)")
            #expect(db.isClosed)
        }
    }
}
