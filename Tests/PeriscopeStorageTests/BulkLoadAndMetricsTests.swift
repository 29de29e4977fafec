import Foundation
import Testing
@testable import PeriscopeStorage

@Suite struct BulkLoadAndMetricsTests {
    @Test func sstFileWriterAndIngest() throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.child("db"), options: testOptions(), columnFamilies: ["bulk": .init()])
        let bulk = try db.requireColumnFamily("bulk")
        try db.put("key-0005".bytes, "overwritten by ingest".bytes, in: bulk)

        let file = directory.child("load.sst")
        let writer = try SSTFileWriter(path: file, environment: testEnvironment)
        for i in 0..<1000 { try writer.put("key-\(String(format: "%04d", i))".bytes, "value-\(i)".bytes) }
        #expect(writer.entryCount == 1000)
        let size = try writer.finish()
        #expect(size > 0)
        #expect(storageError { try writer.put("zzz".bytes, []) }?.code == .invalidArgument)

        try db.ingest(files: [file], into: bulk)
        #expect(try db.get("key-0999".bytes, in: bulk) == "value-999".bytes)
        #expect(try db.get("key-0005".bytes, in: bulk) == "value-5".bytes, "ingested data is newer than what was there")
        #expect(try db.scan(in: bulk) { Array($0).count } == 1000)
    }

    @Test func sstWriterRefusesKeysOutOfOrder() throws {
        let directory = TemporaryDirectory()
        let writer = try SSTFileWriter(path: directory.child("bad.sst"), environment: testEnvironment)
        try writer.put("b".bytes, [])
        let error = storageError { try writer.put("a".bytes, []) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("increasing") == true)
        #expect(storageError { try writer.put("b".bytes, []) }?.code == .invalidArgument, "duplicates are out of order too")
    }

    @Test func sstWriterThatCannotOpenItsFileIsAnError() throws {
        let directory = TemporaryDirectory()
        let path = directory.child("no-such-dir/x.sst")
        let error = storageError { _ = try SSTFileWriter(path: path, environment: testEnvironment) }
        #expect(error?.path == path)
        #expect(error?.code == .ioError)
    }

    @Test func ingestOfAMissingFileIsAnError() throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.child("db"), options: testOptions())
        let error = storageError { try db.ingest(files: [directory.child("nope.sst")]) }
        #expect(error != nil)
        #expect(error?.message.contains("nope.sst") == true)
    }

    @Test func sizesAndPropertiesTrackTheData() throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.path, options: testOptions())
        let value = Bytes(repeating: 7, count: 100)
        for i in 0..<5000 { try db.put("key\(i)".bytes, value, options: .buffered) }
        let inMemory = try db.sizes()
        #expect(inMemory.memtableBytes > 500_000)
        #expect(inMemory.liveSSTFilesBytes == 0)
        #expect(inMemory.estimatedKeys > 4000)

        try db.flush()
        try db.compactRange(KeyRange(from: "key1".bytes, to: "key2".bytes))
        let onDisk = try db.sizes()
        #expect(onDisk.liveSSTFilesBytes > 0)
        #expect(onDisk.estimatedKeys > 4000 && onDisk.estimatedKeys < 6000)
        #expect(try db.integerProperty(.runningCompactions) != nil)
        #expect(try db.integerProperty("rocksdb.no-such-property") == nil)
        #expect(try db.stringProperty(.levelStats)?.contains("Level") == true)
    }

    @Test func statisticsCountOperations() throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.path, options: testOptions())
        for i in 0..<300 { try db.put("k\(i)".bytes, [1], options: .buffered) }
        for i in 0..<100 { _ = try db.get("k\(i)".bytes) }
        let statistics = try #require(try db.statistics())
        #expect(statistics.counters["rocksdb.number.keys.written"] == 300)
        #expect(statistics.counters["rocksdb.number.keys.read"] == 100)
        #expect(statistics.histograms["rocksdb.db.get.micros"]?.count == 100)

        let quiet = TemporaryDirectory()
        let without = try Database.open(at: quiet.path, options: testOptions { $0.collectStatistics = false })
        #expect(try without.statistics() == nil)
    }

    @Test func statisticsParserReadsTickersAndHistograms() {
        let text = """
        rocksdb.block.cache.miss COUNT : 12
        rocksdb.db.get.micros P50 : 1.500000 P95 : 3.000000 P99 : 9.000000 P100 : 20.000000 COUNT : 7 SUM : 40
        garbage line
        """
        let statistics = StorageStatistics(parsing: text)
        #expect(statistics.counters == ["rocksdb.block.cache.miss": 12])
        #expect(statistics.histograms["rocksdb.db.get.micros"] == .init(p50: 1.5, p95: 3, p99: 9, max: 20, count: 7, sum: 40))
    }

    /// Every database opened with one environment shares its block cache: each reports the
    /// same cache usage, and it is the environment's.
    @Test func databasesShareTheEnvironmentsBlockCache() throws {
        let environment = StorageEnvironment(.init(blockCacheBytes: 32 << 20, compactionThreads: 1, flushThreads: 1))
        let directory = TemporaryDirectory()
        let options = DatabaseOptions(environment: environment)
        let first = try Database.open(at: directory.child("one"), options: options)
        let second = try Database.open(at: directory.child("two"), options: options)
        for db in [first, second] {
            for i in 0..<2000 { try db.put("k\(i)".bytes, Bytes(repeating: 1, count: 200), options: .buffered) }
            try db.flush()
            for i in 0..<2000 { _ = try db.get("k\(i)".bytes) }
        }
        let usage = environment.blockCacheUsageBytes
        #expect(usage > 0)
        #expect(try first.integerProperty("rocksdb.block-cache-usage").map(Int.init) == usage)
        #expect(try second.integerProperty("rocksdb.block-cache-usage").map(Int.init) == usage)
        #expect(try first.integerProperty("rocksdb.block-cache-capacity") == 32 << 20)
    }
}
