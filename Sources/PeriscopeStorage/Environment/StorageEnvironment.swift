import CRocksDB

/// The RocksDB resources every database in a process shares: one LRU block cache and one
/// background-thread environment (flushes and compactions).
///
/// A node hosts many shard databases plus its log store; giving each its own cache would
/// split memory into many small, badly used pools, and each its own thread pool would
/// oversubscribe the CPU. So a process creates one environment (normally `shared`) and
/// passes it to every `Database.open`. Every database keeps its environment alive.
///
/// The block cache belongs to the environment. The background threads do not: RocksDB has
/// one default `Env` per process, so the thread counts of the most recently created
/// environment apply to every database in the process. Create one environment per process
/// (tests may create more; they then share the last thread counts).
public final class StorageEnvironment: @unchecked Sendable {
    // @unchecked: the cache and env are thread-safe in RocksDB; both pointers are immutable.

    public struct Configuration: Sendable, Equatable {
        /// Capacity of the shared LRU block cache.
        public var blockCacheBytes: Int
        /// Threads for compactions (RocksDB's low-priority pool). Process-wide: see below.
        public var compactionThreads: Int
        /// Threads for memtable flushes (RocksDB's high-priority pool). Process-wide: see below.
        public var flushThreads: Int

        public init(blockCacheBytes: Int = 256 << 20, compactionThreads: Int = 2, flushThreads: Int = 1) {
            self.blockCacheBytes = blockCacheBytes
            self.compactionThreads = compactionThreads
            self.flushThreads = flushThreads
        }
    }

    /// The process-wide environment, created with default settings on first use.
    public static let shared = StorageEnvironment(Configuration())

    public let configuration: Configuration
    let cache: OpaquePointer  // rocksdb_cache_t*
    let env: OpaquePointer  // rocksdb_env_t*, RocksDB's process-wide default Env

    public init(_ configuration: Configuration) {
        precondition(configuration.blockCacheBytes > 0, "blockCacheBytes must be positive")
        precondition(configuration.compactionThreads > 0 && configuration.flushThreads > 0,
                     "background thread counts must be positive: \(configuration)")
        self.configuration = configuration
        cache = rocksdb_cache_create_lru(configuration.blockCacheBytes)
        env = rocksdb_create_default_env()
        rocksdb_env_set_background_threads(env, Int32(configuration.compactionThreads))
        rocksdb_env_set_high_priority_background_threads(env, Int32(configuration.flushThreads))
    }

    deinit {
        rocksdb_cache_destroy(cache)
        // For the default Env this frees only the C wrapper, never RocksDB's singleton.
        rocksdb_env_destroy(env)
    }

    /// Bytes of the block cache in use across every database sharing it.
    public var blockCacheUsageBytes: Int { Int(rocksdb_cache_get_usage(cache)) }

    /// Bytes of the block cache pinned by open iterators and table readers.
    public var blockCachePinnedBytes: Int { Int(rocksdb_cache_get_pinned_usage(cache)) }
}
