import Testing
import PeriscopeStorage

@Suite struct CrudTests {
    @Test func putGetOverwriteDelete() throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.path, options: testOptions())
        #expect(try db.get("absent".bytes) == nil)

        try db.put("k".bytes, "v1".bytes)
        #expect(try db.get("k".bytes) == "v1".bytes)
        try db.put("k".bytes, "v2".bytes, options: .buffered)
        #expect(try db.get("k".bytes) == "v2".bytes)

        try db.delete("k".bytes)
        #expect(try db.get("k".bytes) == nil)
        try db.delete("never-written".bytes)  // deleting an absent key is not an error
    }

    @Test func emptyAndBinaryKeysAndValues() throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.path, options: testOptions())
        let binary: Bytes = [0, 255, 0, 1, 0]
        try db.put([], [])
        try db.put(binary, binary)
        #expect(try db.get([]) == [])
        #expect(try db.get(binary) == binary)
        #expect(try db.get([0, 255, 0, 1]) == nil)
    }

    @Test func largeValueRoundTrips() throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.path, options: testOptions())
        let value = Bytes((0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try db.put("big".bytes, value)
        try db.flush()
        #expect(try db.get("big".bytes) == value)
    }

    @Test func multiGetReturnsValuesInRequestOrder() throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.path, options: testOptions())
        for i in 0..<50 { try db.put("key\(i)".bytes, "value\(i)".bytes, options: .buffered) }
        let keys = ["key7", "missing", "key3", "key49", ""].map(\.bytes)
        #expect(try db.multiGet(keys) == ["value7".bytes, nil, "value3".bytes, "value49".bytes, nil])
        #expect(try db.multiGet([]) == [])
    }

    @Test func columnFamiliesAreSeparateKeySpaces() throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.path, options: testOptions(), columnFamilies: ["a": .init(), "b": .init()])
        let a = try db.requireColumnFamily("a")
        let b = try db.requireColumnFamily("b")
        try db.put("k".bytes, "in a".bytes, in: a)
        try db.put("k".bytes, "in b".bytes, in: b)
        #expect(try db.get("k".bytes, in: a) == "in a".bytes)
        #expect(try db.get("k".bytes, in: b) == "in b".bytes)
        #expect(try db.get("k".bytes) == nil)
        #expect(db.columnFamilyNames == ["a", "b", "default"])
    }

    /// Buffered writes made durable afterwards, at once; a closed database refuses.
    @Test func syncingTheWriteAheadLogKeepsBufferedWritesAndRefusesWhenClosed() throws {
        let directory = TemporaryDirectory()
        var db = try Database.open(at: directory.path, options: testOptions())
        for number in 0..<100 { try db.put("k\(number)".bytes, "v".bytes, options: .buffered) }
        try db.syncWriteAheadLog()
        try db.close()
        #expect(throws: (any Error).self) { try db.syncWriteAheadLog() }
        db = try Database.open(at: directory.path, options: testOptions())
        #expect(try db.get("k99".bytes) == "v".bytes)
    }
}
