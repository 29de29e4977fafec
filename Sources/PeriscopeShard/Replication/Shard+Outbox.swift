import PeriscopeModel
import PeriscopeStorage

/// One entry of the outbox: the writes this region accepted at one log index.
public struct OutboxEntry: Sendable, Equatable {
    public var index: UInt64
    /// The proposer's clock when the writes were proposed (replication lag is measured from it).
    public var originTime: Timestamp
    public var commands: [ShardCommand]
}

/// Outbox entries after a cursor, read at one snapshot with what frames them.
public struct OutboxRead: Sendable {
    public var entries: [OutboxEntry]
    /// Entries through this index may be gone: a reader whose cursor is behind it missed
    /// some, and must be backfilled instead.
    public var trimmedThrough: UInt64
    /// The shard's applied index at the snapshot: every outbox entry up to it exists (or was
    /// trimmed), so a reader that took everything is caught up to here.
    public var appliedIndex: UInt64
    /// Whether the read stopped at a limit with more entries after it.
    public var more: Bool
}

extension Shard {
    /// Outbox entries after `cursor`, at most `entriesMax` of them and about `bytesMax`
    /// bytes (at least one entry when there is one). **Blocks.**
    public func outbox(after cursor: UInt64, entriesMax: Int, bytesMax: Int) throws -> OutboxRead {
        let snapshot = try database.makeSnapshot()
        let options = ReadOptions(snapshot: snapshot)
        let meta = family(.meta)
        let applied = try database.get(ShardKeys.appliedIndex, in: meta, options: options).map { try readFixed($0, what: "applied index") } ?? 0
        let trimmed = try database.get(ShardKeys.outboxTrimmedThrough, in: meta, options: options)
            .map { try readFixed($0, what: "outbox trim point") } ?? 0
        var entries: [OutboxEntry] = []
        var bytes = 0
        var more = false
        guard cursor < .max else { return OutboxRead(entries: [], trimmedThrough: trimmed, appliedIndex: applied, more: false) }
        try database.scan(in: family(.outbox), range: KeyRange(from: ShardKeys.outbox(index: cursor + 1)), options: options) { scanned in
            for entry in scanned {
                if entries.count == entriesMax || (bytes >= bytesMax && !entries.isEmpty) {
                    more = true
                    break
                }
                entries.append(try Self.outboxEntry(entry))
                bytes += entry.value.count
            }
        }
        return OutboxRead(entries: entries, trimmedThrough: trimmed, appliedIndex: applied, more: more)
    }

    /// The first outbox entry after `cursor` (replication lag: how old the oldest write a
    /// reader still lacks is). **Blocks.**
    public func firstOutboxEntry(after cursor: UInt64) throws -> OutboxEntry? {
        try outbox(after: cursor, entriesMax: 1, bytesMax: .max).entries.first
    }

    /// The newest log index the outbox holds writes of (0 when empty). **Blocks.**
    public func newestOutboxIndex() throws -> UInt64 {
        try database.scan(in: family(.outbox), direction: .reverse) { scanned in
            for entry in scanned { return try readFixed(entry.key, what: "outbox key") }
            return 0
        }
    }

    static func outboxEntry(_ entry: KeyValue) throws -> OutboxEntry {
        let index = try readFixed(entry.key, what: "outbox key")
        guard case .replicable(let time, let commands) = try ShardCommand.decode(entry.value) else {
            throw ShardError("outbox entry \(index) does not hold replicable writes")
        }
        return OutboxEntry(index: index, originTime: time, commands: commands)
    }
}
