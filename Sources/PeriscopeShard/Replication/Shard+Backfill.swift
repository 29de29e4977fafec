import PeriscopeModel
import PeriscopeStorage

/// Where a backfill reads: one point in time of the shard (kept like a paging one, so it is
/// released when the shard closes and expires if its reader vanishes), and the applied index
/// it holds the state of.
public struct BackfillSnapshot: Sendable, Hashable {
    public var pointInTime: PointInTimeID
    public var appliedIndex: UInt64
}

/// One chunk of a backfill: writes that recreate executions as this shard holds them, and
/// where the next chunk starts (nil when the backfill is complete).
public struct BackfillChunk: Sendable {
    public var commands: [ShardCommand]
    public var resumeAfter: [UInt8]?
}

extension Shard {
    /// Starts a backfill: another region whose cursor fell behind this shard's outbox (or
    /// that was just added to a namespace) receives the shard's state instead of its log.
    public func beginBackfill() throws -> BackfillSnapshot {
        let snapshot = try database.makeSnapshot()
        let applied = try metaIndex(ShardKeys.appliedIndex, options: ReadOptions(snapshot: snapshot))
        return BackfillSnapshot(pointInTime: pointsInTime.open(snapshot), appliedIndex: applied)
    }

    public func endBackfill(_ backfill: BackfillSnapshot) { pointsInTime.release(backfill.pointInTime) }

    /// The next chunk of the executions of `namespaceIds` after `after` (a chunk's
    /// `resumeAfter`), as writes the conflict rule applies anywhere with the same result:
    /// a live record as an upsert, a tombstone as a delete filed in its partition. At most
    /// `limit` executions and about `bytesMax` bytes. Expired executions are left out.
    /// **Blocks.** Fails if the backfill's point in time expired (start again).
    public func backfillChunk(_ backfill: BackfillSnapshot, namespaceIds: Set<String>, after: [UInt8]?, limit: Int,
                              bytesMax: Int) throws -> BackfillChunk {
        guard let snapshot = pointsInTime.snapshot(backfill.pointInTime) else {
            throw ShardQueryError(.unavailable, "the backfill's point in time expired or the shard reopened; start the backfill again")
        }
        let options = ReadOptions(snapshot: snapshot, fillCache: false)
        let horizons = try horizons(options: options)
        // Namespaces in key order, so one resume key says where the whole backfill stands.
        let prefixes = namespaceIds.map { ShardKeys.namespace($0) }.sorted(by: bytesPrecede)
        var commands: [ShardCommand] = []
        var bytes = 0
        for prefix in prefixes {
            if let after, let end = KeyRange.prefixSuccessor(prefix), !bytesPrecede(after, end) { continue }
            var range = KeyRange.prefix(prefix)
            if let after, bytesPrecede(prefix, after) || prefix == after {
                range.lowerBound = after + [0]
            }
            var last: [UInt8]?
            try database.scan(in: family(.locator), range: range, options: options) { scanned in
                for entry in scanned {
                    if commands.count == limit || bytes >= bytesMax { return }
                    last = entry.key
                    if let command = try backfillCommand(entry, horizons: horizons, options: options) {
                        commands.append(command)
                        bytes += entry.value.count + 200
                    }
                }
                last = nil
            }
            if let last { return BackfillChunk(commands: commands, resumeAfter: last) }
        }
        return BackfillChunk(commands: commands, resumeAfter: nil)
    }

    private func backfillCommand(_ entry: KeyValue, horizons: [String: Int64], options: ReadOptions) throws -> ShardCommand? {
        let state = try ExecutionState.decode(entry.value)
        let key = try Self.executionKey(fromLocator: entry.key)
        guard !state.isExpired(horizon: horizons[key.namespaceId]) else { return nil }
        switch state.kind {
        case .live:
            guard let record = try record(key, in: state.partition, options: options) else {
                throw ShardError("the locator of \(key) in \(path) names a record its partition does not hold")
            }
            return .upsert(record)
        case .tombstone:
            guard case .closed(let bucket) = state.partition else {
                throw ShardError("the tombstone of \(key) in \(path) is filed in the open partition")
            }
            return .delete(key, version: state.version, at: configuration.partitionScheme.start(ofBucket: bucket),
                           failoverVersion: state.failoverVersion)
        }
    }
}
