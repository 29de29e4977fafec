import Crypto
import PeriscopeModel
import PeriscopeStorage

/// What a replica's replicated state is, in a few bytes: replicas of one shard that have
/// applied the same index must have equal digests, whichever node they live on.
public struct ReplicaDigest: Sendable, Equatable, CustomStringConvertible {
    public var appliedIndex: UInt64
    /// Locator and record entries (executions, live or tombstoned).
    public var entries: Int
    /// SHA-256 over every locator and record entry in key order, hex.
    public var sha256: String

    public var description: String { "applied \(appliedIndex), \(entries) entries, sha256 \(sha256.prefix(16))…" }
}

extension Shard {
    /// The digest of what apply wrote (the locator and the records; the indexes are derived
    /// from them asynchronously and not part of it), read at one point in time together
    /// with the applied index. **Blocks**: it reads the whole shard.
    public func replicaDigest() throws -> ReplicaDigest {
        let snapshot = try database.makeSnapshot()
        let options = ReadOptions(snapshot: snapshot, fillCache: false)
        let applied = try database.get(ShardKeys.appliedIndex, in: family(.meta), options: options)
            .map { try readFixed($0, what: "applied index") } ?? 0
        var hash = SHA256()
        var entries = 0
        for name in [ShardColumnFamily.locator, .records] {
            hash.update(data: Array(name.rawValue.utf8))
            try database.scan(in: family(name), options: options) { scanned in
                for entry in scanned {
                    for part in [entry.key, entry.value] {
                        hash.update(data: bigEndian(UInt64(part.count)))
                        hash.update(data: part)
                    }
                    entries += 1
                }
            }
        }
        let digest = hash.finalize().map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        return ReplicaDigest(appliedIndex: applied, entries: entries, sha256: digest)
    }
}

extension Shard {
    /// The digest of one namespace's executions as another region would hold them too:
    /// each unexpired execution's key, whether it is live or deleted, its versions and
    /// partition, and its record, in key order. The log positions that wrote them (which
    /// differ between regions) are left out, so regions that received the same writes agree.
    /// **Blocks**: it reads the namespace's part of the shard.
    public func namespaceDigest(_ namespaceId: String) throws -> ReplicaDigest {
        let snapshot = try database.makeSnapshot()
        let options = ReadOptions(snapshot: snapshot, fillCache: false)
        let applied = try metaIndex(ShardKeys.appliedIndex, options: options)
        let horizon = try self.horizon(namespaceId, options: options)
        var hash = SHA256()
        var entries = 0
        try database.scan(in: family(.locator), range: .prefix(ShardKeys.namespace(namespaceId)), options: options) { scanned in
            for entry in scanned {
                var state = try ExecutionState.decode(entry.value)
                guard !state.isExpired(horizon: horizon) else { continue }
                state.lastChange = 0
                var parts = [entry.key, state.encoded()]
                if state.kind == .live, let record = try database.get(ShardKeys.record(try Self.executionKey(fromLocator: entry.key), in: state.partition),
                                                                      in: family(.records), options: options) {
                    parts.append(record)
                }
                for part in parts {
                    hash.update(data: bigEndian(UInt64(part.count)))
                    hash.update(data: part)
                }
                entries += 1
            }
        }
        let digest = hash.finalize().map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        return ReplicaDigest(appliedIndex: applied, entries: entries, sha256: digest)
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
