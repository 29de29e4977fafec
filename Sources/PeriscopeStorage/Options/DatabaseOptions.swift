/// How a database directory is opened.
public struct DatabaseOptions: Sendable {
    public var createIfMissing: Bool
    public var errorIfExists: Bool
    /// Create column families named in `Database.open(columnFamilies:)` that do not exist yet.
    public var createMissingColumnFamilies: Bool
    /// Open without taking the directory's LOCK: reads only, alongside a live writer.
    public var readOnly: Bool
    /// The shared cache and background threads (see `StorageEnvironment`).
    public var environment: StorageEnvironment
    /// Options of the `default` column family and of existing ones not named at open.
    public var defaultColumnFamilyOptions: ColumnFamilyOptions
    /// File descriptors RocksDB may keep open for this database; -1 means unlimited.
    public var maxOpenFiles: Int
    /// Upper bound on concurrent flushes and compactions for this database.
    public var maxBackgroundJobs: Int
    /// Collect RocksDB's tickers and histograms (`Database.statistics()`).
    public var collectStatistics: Bool
    /// RocksDB's LOG files in the database directory are rotated at this size...
    public var infoLogFileBytesMax: Int
    /// ...and at most this many are kept.
    public var infoLogFilesKept: Int

    public init(
        createIfMissing: Bool = true,
        errorIfExists: Bool = false,
        createMissingColumnFamilies: Bool = true,
        readOnly: Bool = false,
        environment: StorageEnvironment = .shared,
        defaultColumnFamilyOptions: ColumnFamilyOptions = ColumnFamilyOptions(),
        maxOpenFiles: Int = 1024,
        maxBackgroundJobs: Int = 2,
        collectStatistics: Bool = true,
        infoLogFileBytesMax: Int = 16 << 20,
        infoLogFilesKept: Int = 4
    ) {
        self.createIfMissing = createIfMissing
        self.errorIfExists = errorIfExists
        self.createMissingColumnFamilies = createMissingColumnFamilies
        self.readOnly = readOnly
        self.environment = environment
        self.defaultColumnFamilyOptions = defaultColumnFamilyOptions
        self.maxOpenFiles = maxOpenFiles
        self.maxBackgroundJobs = maxBackgroundJobs
        self.collectStatistics = collectStatistics
        self.infoLogFileBytesMax = infoLogFileBytesMax
        self.infoLogFilesKept = infoLogFilesKept
    }
}
