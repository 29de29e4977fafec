/// Which shard holds an execution: a hash of its namespace id and workflow id (not the run
/// id, so every run of a workflow lives on one shard). FNV-1a, 64 bits: stable across
/// processes, platforms and releases, which Swift's `Hasher` is not; it must never change
/// for a region, since records stay where it put them.
public enum ShardRouting {
    public static func shard(namespaceId: String, workflowId: String, shardCount: Int) -> Int {
        precondition(shardCount > 0)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        for byte in namespaceId.utf8 { mix(byte) }
        mix(0)  // a separator: ("ab", "c") and ("a", "bc") must not collide by construction
        for byte in workflowId.utf8 { mix(byte) }
        return Int(hash % UInt64(shardCount))
    }
}
