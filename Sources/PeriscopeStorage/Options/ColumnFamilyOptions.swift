/// How one column family stores and filters its keys.
public struct ColumnFamilyOptions: Sendable, Equatable {
    public enum Compression: Sendable, Equatable {
        case none, lz4, zstd
    }

    /// How RocksDB derives a key's prefix for prefix bloom filters and prefix seeks.
    public enum PrefixExtractor: Sendable, Equatable {
        /// The first `length` bytes. Keys shorter than that are outside the prefix domain
        /// and are only reachable by total-order reads.
        case fixed(length: Int)
    }

    /// Bits per key of the SST bloom filter; `nil` disables it. 10 gives about 1% false positives.
    public var bloomFilterBitsPerKey: Double?
    public var prefixExtractor: PrefixExtractor?
    /// With a prefix extractor: also put whole keys in the filter (serves point gets).
    public var wholeKeyFiltering: Bool
    /// Fraction of the memtable spent on a prefix bloom; 0 disables it. Needs a prefix extractor.
    public var memtablePrefixBloomRatio: Double
    public var writeBufferBytes: Int
    public var blockBytes: Int
    public var compression: Compression
    /// Compression for the bottommost level, where most data lives.
    public var bottommostCompression: Compression

    public init(
        bloomFilterBitsPerKey: Double? = 10,
        prefixExtractor: PrefixExtractor? = nil,
        wholeKeyFiltering: Bool = true,
        memtablePrefixBloomRatio: Double = 0,
        writeBufferBytes: Int = 64 << 20,
        blockBytes: Int = 16 << 10,
        compression: Compression = .lz4,
        bottommostCompression: Compression = .zstd
    ) {
        self.bloomFilterBitsPerKey = bloomFilterBitsPerKey
        self.prefixExtractor = prefixExtractor
        self.wholeKeyFiltering = wholeKeyFiltering
        self.memtablePrefixBloomRatio = memtablePrefixBloomRatio
        self.writeBufferBytes = writeBufferBytes
        self.blockBytes = blockBytes
        self.compression = compression
        self.bottommostCompression = bottommostCompression
    }
}
