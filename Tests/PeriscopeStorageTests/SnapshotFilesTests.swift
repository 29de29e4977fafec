import Foundation
import PeriscopeStorage
import Testing

/// Exporting a database's families as SST files at a snapshot, and replacing another
/// database's families with them: how a Raft snapshot carries a state machine.
@Suite struct SnapshotFilesTests {
    @Test func exportedFilesReplaceAnotherDatabasesContentsExactly() throws {
        let directory = TemporaryDirectory()
        let source = try Database.open(at: directory.child("source"), options: testOptions(), columnFamilies: ["records": .init()])
        let records = try source.requireColumnFamily("records")
        for i in 0..<500 { try source.put("r\(String(format: "%04d", i))".bytes, Array(repeating: UInt8(i % 251), count: 100), in: records, options: .buffered) }
        try source.put("applied".bytes, "500".bytes)
        let snapshot = try source.makeSnapshot()
        // After the snapshot: not exported.
        try source.put("r9999".bytes, "late".bytes, in: records)
        try source.delete("r0000".bytes, in: records)

        try FileManager.default.createDirectory(atPath: directory.child("files"), withIntermediateDirectories: false)
        let files = try source.exportFiles(of: [source.defaultColumnFamily, records], at: snapshot, to: directory.child("files"),
                                           fileBytesMax: 10_000)
        // About 104 bytes an entry: 10 KB files hold 97 entries, so records need 6 files.
        #expect(files.filter { $0.columnFamily == "records" }.count == 6)
        #expect(files.filter { $0.columnFamily == "records" }.reduce(0) { $0 + $1.entries } == 500)
        #expect(files.first { $0.columnFamily == "default" }?.name == "default.0.sst")

        // The target holds other data, overlapping and not: all of it goes.
        let target = try Database.open(at: directory.child("target"), options: testOptions(), columnFamilies: ["records": .init()])
        let targetRecords = try target.requireColumnFamily("records")
        for i in 0..<50 { try target.put("r\(String(format: "%04d", i * 20))".bytes, "stale".bytes, in: targetRecords) }
        try target.put("zzz-only-here".bytes, "stale".bytes, in: targetRecords)
        try target.put("a-only-here".bytes, "stale".bytes, in: targetRecords)
        try target.put("applied".bytes, "7".bytes)
        for family in [target.defaultColumnFamily, targetRecords] {
            let names = files.filter { $0.columnFamily == family.name }.map(\.name)
            try target.replaceContents(of: family, with: names, in: directory.child("files"))
        }
        let expected = try source.scan(in: records, options: ReadOptions(snapshot: snapshot)) { Array($0) }
        #expect(try target.scan(in: targetRecords) { Array($0) } == expected)
        #expect(try target.get("applied".bytes) == "500".bytes)
        #expect(try target.scan { Array($0).count } == 1)
        // Ingested by hard link: the originals stay for the caller to remove.
        #expect(FileManager.default.fileExists(atPath: directory.child("files") + "/records.0.sst"))

        // Still a working database after a reopen.
        try target.close()
        let reopened = try Database.open(at: directory.child("target"), options: testOptions(), columnFamilies: ["records": .init()])
        #expect(try reopened.scan(in: try reopened.requireColumnFamily("records")) { Array($0).count } == 500)
    }

    @Test func anEmptyFamilyExportsNoFileAndReplacingWithNoFilesEmptiesIt() throws {
        let directory = TemporaryDirectory()
        let source = try Database.open(at: directory.child("source"), options: testOptions())
        try FileManager.default.createDirectory(atPath: directory.child("files"), withIntermediateDirectories: false)
        #expect(try source.exportFiles(of: [source.defaultColumnFamily], at: try source.makeSnapshot(), to: directory.child("files")).isEmpty)
        let target = try Database.open(at: directory.child("target"), options: testOptions())
        try target.put("k".bytes, "v".bytes)
        try target.replaceContents(of: target.defaultColumnFamily, with: [], in: directory.child("files"))
        #expect(try target.get("k".bytes) == nil)
    }
}
