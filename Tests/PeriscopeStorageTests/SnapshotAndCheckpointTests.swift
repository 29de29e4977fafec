import Foundation
import Testing
import PeriscopeStorage

@Suite struct SnapshotAndCheckpointTests {
    @Test func snapshotReadsStayAtTheirPointInTime() throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.path, options: testOptions())
        for i in 0..<5 { try db.put("k\(i)".bytes, "old".bytes) }
        let snapshot = try db.makeSnapshot()
        let atSnapshot = ReadOptions(snapshot: snapshot)

        try db.put("k0".bytes, "new".bytes)
        try db.delete("k1".bytes)
        try db.put("k9".bytes, "added".bytes)
        try db.deleteRange(from: "k2".bytes, to: "k4".bytes)
        try db.flush()

        #expect(try db.get("k0".bytes, options: atSnapshot) == "old".bytes)
        #expect(try db.get("k1".bytes, options: atSnapshot) == "old".bytes)
        #expect(try db.get("k9".bytes, options: atSnapshot) == nil)
        let seen = try db.scan(options: atSnapshot) { $0.map { String(decoding: $0.key, as: UTF8.self) } }
        #expect(seen == ["k0", "k1", "k2", "k3", "k4"])

        #expect(try db.get("k0".bytes) == "new".bytes)
        let now = try db.scan { $0.map { String(decoding: $0.key, as: UTF8.self) } }
        #expect(now == ["k0", "k4", "k9"])
        #expect(try db.integerProperty(.liveSnapshots) == 1)
    }

    @Test func checkpointOpensAsADatabaseOfItsOwn() throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.child("live"), options: testOptions(), columnFamilies: ["records": .init()])
        let records = try db.requireColumnFamily("records")
        for i in 0..<100 { try db.put("r\(i)".bytes, "v\(i)".bytes, in: records, options: .buffered) }
        try db.put("meta".bytes, "applied=100".bytes)

        let checkpointPath = directory.child("checkpoint")
        try db.createCheckpoint(at: checkpointPath)
        try db.put("r0".bytes, "changed after checkpoint".bytes, in: records)

        let copy = try Database.open(at: checkpointPath, options: testOptions())
        #expect(copy.columnFamilyNames == ["default", "records"])
        let copiedRecords = try copy.requireColumnFamily("records")
        #expect(try copy.get("r0".bytes, in: copiedRecords) == "v0".bytes)
        #expect(try copy.get("meta".bytes) == "applied=100".bytes)
        #expect(try copy.scan(in: copiedRecords) { Array($0).count } == 100)
        // The copy is independent: writing to it leaves the original alone.
        try copy.put("only-in-copy".bytes, [1])
        #expect(try db.get("only-in-copy".bytes) == nil)
    }

    @Test func checkpointIntoAnExistingDirectoryIsRefused() throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.child("live"), options: testOptions())
        try FileManager.default.createDirectory(atPath: directory.child("taken"), withIntermediateDirectories: false)
        let error = storageError { try db.createCheckpoint(at: directory.child("taken")) }
        #expect(error != nil)
        #expect(error?.path == directory.child("taken"))
    }
}
