import PeriscopeModel
import PeriscopeStorage

/// What a shard keeps for replication between regions, mirrored in memory from its meta
/// family under the apply lock: how far it has received each other region's writes, which
/// namespaces a failover has fenced, and how far its outbox has been trimmed.
struct CrossRegionState: Equatable, Sendable {
    /// Region index → the source log index received through.
    var cursors: [UInt32: UInt64] = [:]
    /// Namespace id → writes accepted here through this failover version are refused.
    var fences: [String: Int64] = [:]
    var outboxTrimmedThrough: UInt64 = 0
}

extension Shard {
    /// The state as stored, at `options`' snapshot.
    func crossRegionState(options: ReadOptions = ReadOptions()) throws -> CrossRegionState {
        var state = CrossRegionState()
        let meta = family(.meta)
        let cursorPrefix = ShardKeys.replicationCursorPrefix
        for entry in try database.scan(in: meta, range: .prefix(cursorPrefix), options: options, { Array($0) }) {
            let suffix = Array(entry.key.dropFirst(cursorPrefix.count))
            guard suffix.count == 4 else { throw ShardError("malformed replication cursor key \(Self.describeKey(entry.key)) in \(path)") }
            let origin = suffix.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            state.cursors[origin] = try readFixed(entry.value, what: "replication cursor")
        }
        let fencePrefix = ShardKeys.fencePrefix
        for entry in try database.scan(in: meta, range: .prefix(fencePrefix), options: options, { Array($0) }) {
            guard case (.string(let namespaceId), _)? = try? KeyDecoder.decode(Array(entry.key.dropFirst(fencePrefix.count))).first else {
                throw ShardError("malformed fence key \(Self.describeKey(entry.key)) in \(path)")
            }
            state.fences[namespaceId] = Int64(bitPattern: try readFixed(entry.value, what: "fence"))
        }
        state.outboxTrimmedThrough = try database.get(ShardKeys.outboxTrimmedThrough, in: meta, options: options)
            .map { try readFixed($0, what: "outbox trim point") } ?? 0
        return state
    }

    /// The source log index this shard has received region `origin`'s writes through.
    public func replicationCursor(from origin: UInt32) -> UInt64 { applyState.withLock { $0.crossRegion.cursors[origin] ?? 0 } }

    /// Every region's cursor.
    public var replicationCursors: [UInt32: UInt64] { applyState.withLock { $0.crossRegion.cursors } }

    /// The failover version through which this region's writes of a namespace are refused.
    public func fence(of namespaceId: String) -> Int64? { applyState.withLock { $0.crossRegion.fences[namespaceId] } }

    /// The version recorded with the last backfill of a namespace from region `origin` into
    /// this shard (nil: none finished).
    public func backfilledVersion(of namespaceId: String, from origin: UInt32) throws -> UInt64? {
        try database.get(ShardKeys.backfilled(origin: origin, namespaceId), in: family(.meta)).map { try readFixed($0, what: "backfill mark") }
    }
}

extension ShardCommand {
    /// The namespace and failover version of a write of one execution.
    var writeStamp: (namespaceId: String, failoverVersion: Int64)? {
        switch self {
        case .start(let record), .upsert(let record), .close(let record): (record.key.namespaceId, record.failoverVersion)
        case .delete(let key, _, _, let failoverVersion): (key.namespaceId, failoverVersion)
        case .expire, .batch, .replicable, .replicated, .fence, .trimOutbox: nil
        }
    }
}
