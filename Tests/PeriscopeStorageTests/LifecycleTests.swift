import Foundation
import Testing
import PeriscopeStorage

@Suite struct LifecycleTests {
    @Test func dataSurvivesCloseAndReopen() throws {
        let directory = TemporaryDirectory()
        do {
            let db = try Database.open(at: directory.path, options: testOptions(), columnFamilies: ["index": .init()])
            try db.put("record".bytes, "r".bytes)
            try db.put("term".bytes, "t".bytes, in: db.requireColumnFamily("index"))
            try db.close()
            #expect(db.isClosed)
        }
        // Reopening without naming "index" still opens it (RocksDB requires every family).
        let reopened = try Database.open(at: directory.path, options: testOptions())
        #expect(reopened.columnFamilyNames == ["default", "index"])
        #expect(try reopened.get("record".bytes) == "r".bytes)
        #expect(try reopened.get("term".bytes, in: reopened.requireColumnFamily("index")) == "t".bytes)
        #expect(try Database.listColumnFamilies(at: directory.path) == ["default", "index"])
    }

    @Test func unsyncedWritesSurviveAProcessLevelReopen() throws {
        // Buffered writes are in the WAL in the page cache: a reopen (or a process crash)
        // replays them. (Machine crashes need `.durable`; tested at the node level.)
        let directory = TemporaryDirectory()
        do {
            let db = try Database.open(at: directory.path, options: testOptions())
            for i in 0..<1000 { try db.put("k\(i)".bytes, "v".bytes, options: .buffered) }
        }
        let db = try Database.open(at: directory.path, options: testOptions())
        #expect(try db.scan { Array($0).count } == 1000)
    }

    @Test func secondOpenOfTheSameDirectoryIsLocked() throws {
        let directory = TemporaryDirectory()
        let first = try Database.open(at: directory.path, options: testOptions())
        let error = storageError { _ = try Database.open(at: directory.path, options: testOptions()) }
        #expect(error?.code == .locked)
        #expect(error?.path == directory.path)
        #expect(error?.message.contains("LOCK") == true)
        // Closing the first releases the lock.
        try first.close()
        _ = try Database.open(at: directory.path, options: testOptions())
    }

    @Test func readOnlyOpenCoexistsWithAWriterAndRefusesWrites() throws {
        let directory = TemporaryDirectory()
        let writer = try Database.open(at: directory.path, options: testOptions())
        try writer.put("k".bytes, "v".bytes)
        try writer.flush()
        let reader = try Database.open(at: directory.path, options: testOptions { $0.readOnly = true })
        #expect(reader.isReadOnly)
        #expect(try reader.get("k".bytes) == "v".bytes)
        #expect(storageError { try reader.put("k".bytes, "w".bytes) }?.code == .notSupported)
        #expect(storageError { try reader.createColumnFamily("x") }?.code == .notSupported)
        let missingFamily = storageError {
            _ = try Database.open(at: directory.path, options: testOptions { $0.readOnly = true }, columnFamilies: ["nope": .init()])
        }
        #expect(missingFamily?.code == .columnFamilyNotFound)
        #expect(missingFamily?.message.contains("nope") == true)
    }

    @Test func missingDirectoryWithoutCreateIsAClearError() throws {
        let directory = TemporaryDirectory()
        let path = directory.child("does-not-exist")
        let error = storageError { _ = try Database.open(at: path, options: testOptions { $0.createIfMissing = false }) }
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("CURRENT does not exist") == true)
        #expect(error?.path == path)
        #expect(!FileManager.default.fileExists(atPath: path), "a failed open creates nothing")
        let readOnly = storageError { _ = try Database.open(at: path, options: testOptions { $0.readOnly = true }) }
        #expect(readOnly?.code == .notFound)
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(storageError { _ = try Database.listColumnFamilies(at: path) }?.code == .notFound)
    }

    @Test func pathThatIsAFileIsAClearError() throws {
        let directory = TemporaryDirectory()
        let path = directory.child("a-file")
        #expect(FileManager.default.createFile(atPath: path, contents: Data("not a database".utf8)))
        let error = storageError { _ = try Database.open(at: path, options: testOptions()) }
        #expect(error?.code == .ioError)
        #expect(error?.message.isEmpty == false)
        #expect(storageError { _ = try Database.open(at: path + "/below", options: testOptions()) }?.code == .ioError)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "not a database", "the file is untouched")
    }

    @Test func damagedDatabaseIsReportedNotCrashedOn() throws {
        let directory = TemporaryDirectory()
        do {
            let db = try Database.open(at: directory.path, options: testOptions())
            try db.put("k".bytes, "v".bytes)
        }
        // CURRENT names the live manifest; point it at one that does not exist.
        try "MANIFEST-999999\n".write(toFile: directory.child("CURRENT"), atomically: false, encoding: .utf8)
        let error = storageError { _ = try Database.open(at: directory.path, options: testOptions()) }
        #expect(error != nil)
        #expect(error?.message.contains("MANIFEST-999999") == true, "\(String(describing: error))")
    }

    @Test func closeIsRefusedWhileACursorOrSnapshotIsOpen() throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.path, options: testOptions())
        try db.put("k".bytes, "v".bytes)
        do {
            let cursor = try db.makeCursor()
            let error = storageError { try db.close() }
            #expect(error?.code == .inUse)
            #expect(error?.message.contains("1 cursor") == true)
            #expect(try cursor.seekToFirst())
        }
        do {
            let snapshot = try db.makeSnapshot()
            #expect(storageError { try db.close() }?.code == .inUse)
            _ = snapshot
        }
        try db.close()
        try db.close()  // idempotent
        #expect(storageError { _ = try db.get("k".bytes) }?.code == .closed)
        #expect(storageError { try db.put("k".bytes, "v".bytes) }?.code == .closed)
        #expect(storageError { _ = try db.makeSnapshot() }?.code == .closed)
        #expect(storageError { try db.flush() }?.code == .closed, "flushing a closed database is not a silent success")
        #expect(storageError { try db.compactRange() }?.code == .closed)
    }

    @Test func cursorKeepsItsDatabaseAliveAfterTheLastOtherReference() throws {
        let directory = TemporaryDirectory()
        var db: Database? = try Database.open(at: directory.path, options: testOptions())
        try db!.put("k".bytes, "v".bytes)
        let cursor = try db!.makeCursor()
        db = nil
        #expect(try cursor.seekToFirst())
        #expect(cursor.value == "v".bytes)
    }

    @Test func familyFromAClosedDatabaseIsRefusedByAWriteBatch() throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.path, options: testOptions())
        let family = db.defaultColumnFamily
        try db.close()
        let batch = WriteBatch()
        #expect(storageError { try batch.put("k".bytes, "v".bytes, in: family) }?.code == .closed)
    }
}
