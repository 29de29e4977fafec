import PeriscopeModel
import PeriscopeStorage
import Synchronization

/// Why a shard could not be opened or used.
public struct ShardError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One shard replica's store. `apply` is called by one thread at a time (the replica's
/// apply loop) and `indexPending` by one at a time (its indexer); reads may come from any
/// thread. Every method **blocks** on RocksDB: call from a thread made for it
/// (`StorageExecutor`), never from an event loop.
public final class Shard: Sendable {
    public struct Configuration: Sendable {
        public var partitionScheme: PartitionScheme
        /// Change records (applied entries) one indexing batch reads at most.
        public var indexBatchEntriesMax: Int
        /// Signs page tokens; without one, `listPage` refuses to page.
        public var pageTokenKey: PageTokenKey?
        /// How long a paging snapshot lives after its last use, and how many may exist.
        public var pointInTimeKeepAlive: Duration
        public var pointsInTimeMax: Int
        /// Monotonic time since an arbitrary origin (injected: tests advance it by hand).
        public var clock: @Sendable () -> Duration
        /// Names this open of the shard in its points in time (random unless given).
        public var instanceID: UInt64?
        /// The outbox keeps the writes of at most this many of the newest log positions for
        /// other regions (a region further behind is backfilled). The same on every replica.
        public var outboxRetainedEntries: Int

        public init(partitionScheme: PartitionScheme = .day, indexBatchEntriesMax: Int = 2_000, pageTokenKey: PageTokenKey? = nil,
                    pointInTimeKeepAlive: Duration = .seconds(60), pointsInTimeMax: Int = 1_000,
                    clock: (@Sendable () -> Duration)? = nil, instanceID: UInt64? = nil, outboxRetainedEntries: Int = 500_000) {
            self.outboxRetainedEntries = outboxRetainedEntries
            self.partitionScheme = partitionScheme
            self.indexBatchEntriesMax = indexBatchEntriesMax
            self.pageTokenKey = pageTokenKey
            self.pointInTimeKeepAlive = pointInTimeKeepAlive
            self.pointsInTimeMax = pointsInTimeMax
            let origin = ContinuousClock.now
            self.clock = clock ?? { ContinuousClock.now - origin }
            self.instanceID = instanceID
        }
    }

    public let path: String
    public let configuration: Configuration
    let database: Database
    let families: [ShardColumnFamily: ColumnFamily]
    /// Guards the apply path's in-memory view (applied index, retention horizons).
    let applyState: Mutex<ApplyState>
    /// Held while an indexing batch runs: one indexer at a time.
    let indexerLock = Mutex(())
    let indexProgress: IndexProgress
    let pointsInTime: PointsInTime

    struct ApplyState {
        var appliedIndex: UInt64
        /// Namespace → the newest bucket retention has dropped (all of them, loaded at open).
        var horizons: [String: Int64]
        /// The locator sweep's progress: kept here because the sweep runs under this lock.
        var sweep = LocatorSweep()
        var crossRegion = CrossRegionState()
    }

    /// Opens (or creates) the shard in `path`. A shard created with another partition width
    /// refuses to open: every replica must file executions identically.
    public static func open(at path: String, configuration: Configuration = Configuration(),
                            environment: StorageEnvironment = .shared) throws -> Shard {
        guard configuration.indexBatchEntriesMax > 0, configuration.pointsInTimeMax > 0, configuration.outboxRetainedEntries > 0 else {
            throw ShardError("indexBatchEntriesMax, pointsInTimeMax and outboxRetainedEntries must be positive")
        }
        var options = DatabaseOptions(environment: environment)
        options.createMissingColumnFamilies = true
        var requested: [String: ColumnFamilyOptions] = [:]
        for family in ShardColumnFamily.allCases { requested[family.rawValue] = ColumnFamilyOptions() }
        let database = try Database.open(at: path, options: options, columnFamilies: requested)
        var families: [ShardColumnFamily: ColumnFamily] = [:]
        for family in ShardColumnFamily.allCases { families[family] = try database.requireColumnFamily(family.rawValue) }
        let meta = families[.meta]!

        let width = configuration.partitionScheme.widthNanoseconds
        if let stored = try database.get(ShardKeys.partitionWidth, in: meta) {
            let storedWidth = Int64(bitPattern: try readFixed(stored, what: "partition width"))
            guard storedWidth == width else {
                try database.close()
                throw ShardError("shard at \(path) was created with partitions \(storedWidth) ns wide; opened with \(width) ns")
            }
        } else {
            try database.put(ShardKeys.partitionWidth, bigEndian(UInt64(bitPattern: width)), in: meta, options: .durable)
        }
        let applied = try database.get(ShardKeys.appliedIndex, in: meta).map { try readFixed($0, what: "applied index") } ?? 0
        let shard = Shard(path: path, configuration: configuration, database: database, families: families,
                          state: ApplyState(appliedIndex: applied, horizons: [:]))
        let horizons = try shard.horizons(options: ReadOptions(snapshot: try database.makeSnapshot()))
        let crossRegion = try shard.crossRegionState()
        shard.applyState.withLock {
            $0.horizons = horizons
            $0.crossRegion = crossRegion
        }
        shard.indexProgress.publish(try shard.watermarks().values.min() ?? 0)
        return shard
    }

    private init(path: String, configuration: Configuration, database: Database, families: [ShardColumnFamily: ColumnFamily],
                 state: ApplyState) {
        self.path = path
        self.configuration = configuration
        self.database = database
        self.families = families
        self.applyState = Mutex(state)
        indexProgress = IndexProgress(watermark: 0)
        pointsInTime = PointsInTime(instance: configuration.instanceID ?? UInt64.random(in: 1...UInt64.max),
                                    keepAlive: configuration.pointInTimeKeepAlive, capacity: configuration.pointsInTimeMax,
                                    clock: configuration.clock)
    }

    /// Closes the database, dropping the points in time first (their snapshots pin it).
    public func close() throws {
        pointsInTime.releaseAll()
        try database.close()
    }

    func family(_ name: ShardColumnFamily) -> ColumnFamily { families[name]! }

    /// Makes everything applied so far durable (an fsync of the shard's write-ahead log;
    /// apply itself does not sync) and returns the applied index that is now safe: the
    /// node may compact its Raft log through it.
    public func syncApplied() throws -> UInt64 {
        let applied = appliedIndex  // read first: whatever is synced below covers at least this
        try database.syncWriteAheadLog()
        return applied
    }

    /// The last entry applied: after a restart, the node replays its log from here.
    public var appliedIndex: UInt64 { applyState.withLock { $0.appliedIndex } }

    // MARK: Reads

    /// The stored record of an execution, or nil if it is unknown, deleted or expired.
    public func execution(_ key: ExecutionKey, options: ReadOptions = ReadOptions()) throws -> VisibilityRecord? {
        // The locator and the record at one snapshot: read apart, a write applied between
        // them that moved the record (a close, an upsert that reopens it) made a live
        // execution read as absent (the chaos harness's read-your-writes checker, seed 12).
        var options = options
        if options.snapshot == nil { options.snapshot = try database.makeSnapshot() }
        guard let state = try state(of: key, options: options), state.kind == .live else { return nil }
        return try record(key, in: state.partition, options: options)
    }

    /// The locator state of an execution; nil if none, or if retention dropped it.
    func state(of key: ExecutionKey, options: ReadOptions = ReadOptions()) throws -> ExecutionState? {
        guard let bytes = try database.get(ShardKeys.locator(key), in: family(.locator), options: options) else { return nil }
        let state = try ExecutionState.decode(bytes)
        return state.isExpired(horizon: try horizon(key.namespaceId, options: options)) ? nil : state
    }

    func record(_ key: ExecutionKey, in partition: Partition, options: ReadOptions = ReadOptions()) throws -> VisibilityRecord? {
        try database.get(ShardKeys.record(key, in: partition), in: family(.records), options: options).map(RecordCodec.decode)
    }

    /// The newest bucket retention dropped for a namespace: from `options`' snapshot when it
    /// has one, from the apply path's view otherwise.
    func horizon(_ namespaceId: String, options: ReadOptions = ReadOptions()) throws -> Int64? {
        guard options.snapshot != nil else { return applyState.withLock { $0.horizons[namespaceId] } }
        return try database.get(ShardKeys.retentionHorizon(namespaceId), in: family(.meta), options: options)
            .map { Int64(bitPattern: try readFixed($0, what: "retention horizon")) }
    }
}

/// An 8-byte big-endian value read back; any other length is corruption.
func readFixed(_ bytes: [UInt8], what: String) throws(DecodingError) -> UInt64 {
    guard bytes.count == 8 else { throw DecodingError(what: what, offset: 0, reason: "expected 8 bytes, found \(bytes.count)") }
    return readBigEndian(bytes[...])
}

extension Shard {
    /// Bytes the shard holds on disk and in memtables, summed over its column families
    /// (RocksDB's estimates; for metrics).
    public func storageBytes() throws -> UInt64 {
        var total: UInt64 = 0
        for family in families.values {
            total += try database.integerProperty(.totalSSTFilesBytes, in: family) ?? 0
            total += try database.integerProperty(.memtableBytes, in: family) ?? 0
        }
        return total
    }
}
