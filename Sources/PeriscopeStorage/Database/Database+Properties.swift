import CRocksDB

/// A RocksDB property name (see RocksDB's `DB::Properties`).
public struct DatabaseProperty: Sendable, Hashable, ExpressibleByStringLiteral {
    public let name: String
    public init(_ name: String) { self.name = name }
    public init(stringLiteral name: String) { self.name = name }

    public static let estimatedKeys: DatabaseProperty = "rocksdb.estimate-num-keys"
    public static let liveSSTFilesBytes: DatabaseProperty = "rocksdb.live-sst-files-size"
    public static let totalSSTFilesBytes: DatabaseProperty = "rocksdb.total-sst-files-size"
    public static let activeMemtableBytes: DatabaseProperty = "rocksdb.cur-size-active-mem-table"
    /// Active and unflushed immutable memtables.
    public static let memtableBytes: DatabaseProperty = "rocksdb.cur-size-all-mem-tables"
    public static let estimatedLiveDataBytes: DatabaseProperty = "rocksdb.estimate-live-data-size"
    public static let pendingCompactionBytes: DatabaseProperty = "rocksdb.estimate-pending-compaction-bytes"
    public static let runningCompactions: DatabaseProperty = "rocksdb.num-running-compactions"
    public static let runningFlushes: DatabaseProperty = "rocksdb.num-running-flushes"
    public static let liveSnapshots: DatabaseProperty = "rocksdb.num-snapshots"
    /// Human-readable per-level summary (a string property).
    public static let levelStats: DatabaseProperty = "rocksdb.levelstats"
}

/// The sizes of one column family that metrics export.
public struct ColumnFamilySizes: Sendable, Equatable {
    public var estimatedKeys: UInt64
    public var liveSSTFilesBytes: UInt64
    public var memtableBytes: UInt64
}

/// RocksDB's counters ("tickers") and latency histograms, as collected since open.
public struct StorageStatistics: Sendable {
    public struct Histogram: Sendable, Equatable {
        public var p50: Double, p95: Double, p99: Double, max: Double
        public var count: UInt64, sum: UInt64
    }
    public var counters: [String: UInt64] = [:]
    public var histograms: [String: Histogram] = [:]
}

extension Database {
    /// An integer property of a column family, or `nil` if RocksDB does not know it.
    public func integerProperty(_ property: DatabaseProperty, in columnFamily: ColumnFamily? = nil) throws -> UInt64? {
        try withLease("read property", columnFamily) { database, family in
            var value: UInt64 = 0
            return rocksdb_property_int_cf(database, family, property.name, &value) == 0 ? value : nil
        }
    }

    /// A textual property of a column family, or `nil` if RocksDB does not know it.
    public func stringProperty(_ property: DatabaseProperty, in columnFamily: ColumnFamily? = nil) throws -> String? {
        try withLease("read property", columnFamily) { database, family in
            takeRocksDBString(rocksdb_property_value_cf(database, family, property.name))
        }
    }

    public func sizes(of columnFamily: ColumnFamily? = nil) throws -> ColumnFamilySizes {
        ColumnFamilySizes(
            estimatedKeys: try integerProperty(.estimatedKeys, in: columnFamily) ?? 0,
            liveSSTFilesBytes: try integerProperty(.liveSSTFilesBytes, in: columnFamily) ?? 0,
            memtableBytes: try integerProperty(.memtableBytes, in: columnFamily) ?? 0)
    }

    /// RocksDB's statistics, or `nil` if the database was opened without `collectStatistics`.
    public func statistics() throws -> StorageStatistics? {
        let text = try withLease("read statistics") { _ in
            takeRocksDBString(rocksdb_options_statistics_get_string(openOptions.pointer))
        }
        return text.map(StorageStatistics.init(parsing:))
    }
}

extension StorageStatistics {
    /// Parses RocksDB's `Statistics::ToString()`: one line per ticker ("name COUNT : n") or
    /// histogram ("name P50 : x P95 : x P99 : x P100 : x COUNT : n SUM : n").
    init(parsing text: String) {
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard let name = words.first else { continue }
            var fields: [Substring: Substring] = [:]
            var index = 1
            while index + 2 < words.count, words[index + 1] == ":" {
                fields[words[index]] = words[index + 2]
                index += 3
            }
            if let p50 = fields["P50"].flatMap({ Double($0) }) {
                histograms[String(name)] = Histogram(
                    p50: p50,
                    p95: fields["P95"].flatMap { Double($0) } ?? 0,
                    p99: fields["P99"].flatMap { Double($0) } ?? 0,
                    max: fields["P100"].flatMap { Double($0) } ?? 0,
                    count: fields["COUNT"].flatMap { UInt64($0) } ?? 0,
                    sum: fields["SUM"].flatMap { UInt64($0) } ?? 0)
            } else if let count = fields["COUNT"].flatMap({ UInt64($0) }) {
                counters[String(name)] = count
            }
        }
    }
}
