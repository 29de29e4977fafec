import Foundation
import Synchronization
import Testing
import PeriscopeStorage

@Suite struct BatchTests {
    @Test func batchAppliesEveryOperationAcrossFamilies() throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.path, options: testOptions(), columnFamilies: ["records": .init(), "index": .init()])
        let records = try db.requireColumnFamily("records")
        let index = try db.requireColumnFamily("index")
        try db.put("stale".bytes, "x".bytes, in: index)
        for i in 0..<10 { try db.put("range\(i)".bytes, "x".bytes, in: records) }

        let batch = WriteBatch()
        try batch.put("r1".bytes, "record".bytes, in: records)
        try batch.put("i1".bytes, "r1".bytes, in: index)
        try batch.delete("stale".bytes, in: index)
        try batch.deleteRange(from: "range2".bytes, to: "range5".bytes, in: records)
        #expect(batch.count == 4)
        #expect(batch.byteCount > 0)
        #expect(try db.get("r1".bytes, in: records) == nil, "nothing is visible before the write")

        try db.write(batch)
        #expect(try db.get("r1".bytes, in: records) == "record".bytes)
        #expect(try db.get("i1".bytes, in: index) == "r1".bytes)
        #expect(try db.get("stale".bytes, in: index) == nil)
        let remaining = try db.scan(in: records, range: .prefix("range".bytes)) { $0.map { String(decoding: $0.key, as: UTF8.self) } }
        #expect(remaining == ["range0", "range1", "range5", "range6", "range7", "range8", "range9"])

        batch.clear()
        #expect(batch.count == 0)
    }

    /// A reader must never see half a batch: every batch writes the same value into both
    /// families, and concurrent snapshot readers check the two always agree.
    @Test func concurrentReadersNeverSeeHalfABatch() async throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.path, options: testOptions(), columnFamilies: ["left": .init(), "right": .init()])
        let left = try db.requireColumnFamily("left")
        let right = try db.requireColumnFamily("right")
        let keys = (0..<20).map { "key\($0)".bytes }
        let batches = 400
        let done = DoneFlag()

        let writer = Task.detached {
            for round in 0..<batches {
                let batch = WriteBatch()
                for key in keys {
                    try batch.put(key, "\(round)".bytes, in: left)
                    try batch.put(key, "\(round)".bytes, in: right)
                }
                try db.write(batch, options: .buffered)
            }
            done.value.store(true, ordering: .releasing)
        }
        let reader = Task.detached { () -> (checks: Int, torn: [String]) in
            var checks = 0
            var torn: [String] = []
            repeat {
                let snapshot = try db.makeSnapshot()
                let options = ReadOptions(snapshot: snapshot)
                let leftValues = try db.multiGet(keys, in: left, options: options)
                let rightValues = try db.multiGet(keys, in: right, options: options)
                if leftValues != rightValues || Set(leftValues.map { $0 ?? [] }).count != 1 {
                    torn.append("left \(leftValues) right \(rightValues)")
                }
                checks += 1
            } while !done.value.load(ordering: .acquiring)
            return (checks, torn)
        }
        try await writer.value
        let (checks, torn) = try await reader.value
        #expect(checks > 0)
        #expect(torn.isEmpty, "a reader saw part of a batch")
        #expect(try db.get(keys[0], in: left) == "\(batches - 1)".bytes)
    }

    @Test func batchNamingADroppedFamilyIsRefusedAndWritesNothing() throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.path, options: testOptions(), columnFamilies: ["keep": .init(), "gone": .init()])
        let keep = try db.requireColumnFamily("keep")
        let gone = try db.requireColumnFamily("gone")
        try db.dropColumnFamily(gone)

        let batch = WriteBatch()
        try batch.put("k".bytes, "v".bytes, in: keep)
        let error = storageError { try batch.put("k".bytes, "v".bytes, in: gone) }
        #expect(error?.code == .columnFamilyDropped)
        #expect(error?.message.contains("gone") == true)
        #expect(try db.get("k".bytes, in: keep) == nil)
    }

    @Test func batchRejectsAnInvertedRange() throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.path, options: testOptions())
        let batch = WriteBatch()
        #expect(storageError { try batch.deleteRange(from: "b".bytes, to: "a".bytes, in: db.defaultColumnFamily) }?.code == .invalidArgument)
    }
}

/// Shared between the writer and reader tasks (an `Atomic` cannot be captured directly).
private final class DoneFlag: Sendable {
    let value = Atomic<Bool>(false)
}
