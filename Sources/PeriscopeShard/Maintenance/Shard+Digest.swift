import Crypto
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

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
