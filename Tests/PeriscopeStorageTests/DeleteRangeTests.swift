import Testing
import PeriscopeStorage

@Suite struct DeleteRangeTests {
    @Test func deleteRangeRemovesExactlyTheHalfOpenRange() throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.path, options: testOptions())
        let keys = (0..<100).map { "p\(String($0 + 100))" }  // p100 ... p199
        for key in keys { try db.put(key.bytes, [1], options: .buffered) }
        try db.flush()  // half in SST files...
        for key in keys.suffix(50) { try db.put(key.bytes, [2], options: .buffered) }  // ...half in the memtable

        try db.deleteRange(from: "p120".bytes, to: "p180".bytes)
        let left = try db.scan { $0.map { String(decoding: $0.key, as: UTF8.self) } }
        #expect(left == keys.filter { $0 < "p120" || $0 >= "p180" })
        #expect(try db.get("p179".bytes) == nil)
        #expect(try db.get("p180".bytes) == [2])

        // Compaction reclaims the deleted range; the survivors are intact.
        try db.compactRange()
        #expect(try db.scan { Array($0).count } == 40)
    }

    @Test func invertedRangeIsRejectedAndEmptyRangeIsANoOp() throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.path, options: testOptions())
        try db.put("m".bytes, [1])
        let error = storageError { try db.deleteRange(from: "z".bytes, to: "a".bytes) }
        #expect(error?.code == .invalidArgument)
        #expect(storageError { try db.compactRange(KeyRange(from: "z".bytes, to: "a".bytes)) }?.code == .invalidArgument)
        try db.deleteRange(from: "m".bytes, to: "m".bytes)
        #expect(try db.get("m".bytes) == [1])
    }
}
