/// How a point read or a cursor reads.
public struct ReadOptions: Sendable {
    /// Read the database as of this snapshot instead of its latest state.
    public var snapshot: Snapshot?
    /// Use the column family's prefix extractor: cheaper seeks (prefix bloom filters), but the
    /// cursor only sees keys sharing the seek key's prefix. Off means total order.
    public var prefixSeek: Bool
    /// Keep blocks this read loads in the block cache; turn off for one-off bulk scans.
    public var fillCache: Bool
    public var verifyChecksums: Bool

    public init(snapshot: Snapshot? = nil, prefixSeek: Bool = false, fillCache: Bool = true, verifyChecksums: Bool = true) {
        self.snapshot = snapshot
        self.prefixSeek = prefixSeek
        self.fillCache = fillCache
        self.verifyChecksums = verifyChecksums
    }
}

/// How a write is made durable.
public struct WriteOptions: Sendable, Equatable {
    /// fsync the write-ahead log before returning: the write survives a machine crash.
    public var sync: Bool
    /// Skip the write-ahead log: the write survives nothing until the memtable is flushed.
    /// Only for data that can be rebuilt (a shard replays its Raft log after a crash).
    public var disableWAL: Bool

    public init(sync: Bool, disableWAL: Bool = false) {
        precondition(!(sync && disableWAL), "a write cannot both sync and skip the write-ahead log")
        self.sync = sync
        self.disableWAL = disableWAL
    }

    /// Acknowledged only after fsync.
    public static let durable = WriteOptions(sync: true)
    /// In the OS page cache on return: survives a process crash, not a machine crash.
    public static let buffered = WriteOptions(sync: false)
}
