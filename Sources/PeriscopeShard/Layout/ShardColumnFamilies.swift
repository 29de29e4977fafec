/// The column families of a shard replica's RocksDB, and who writes each. docs/design.md
/// ("Storage layout") gives every key format.
public enum ShardColumnFamily: String, CaseIterable, Sendable {
    /// Applied index, index watermarks, retention horizons, the partition scheme.
    case meta
    /// (namespace, workflowId, runId) → the execution's state: live in a partition, or a
    /// tombstone, with its version. Written by apply.
    case locator
    /// (namespace, partition, workflowId, runId) → the record. Written by apply.
    case records
    /// (applied index, position) → the executions an entry touched and their previous
    /// records. Written by apply, consumed (range-deleted) by the indexer.
    case changes
    /// The time-partitioned index: (namespace, partition, default order) → nothing.
    case time = "index.time"
    /// The inverted index: (namespace, partition, field, type, term, default order) → nothing.
    case terms = "index.terms"
    /// Ordered values: (namespace, partition, field, type, value, default order) → nothing.
    case values = "index.values"
    /// Applied index → the writes this region accepted in that entry (its `replicable`
    /// commands that changed something), for other regions to replicate. Written by apply,
    /// trimmed once every region fed has them, or past the retained span.
    case outbox
}

/// The three secondary indexes, each with its own watermark.
public enum ShardIndex: String, CaseIterable, Sendable, Hashable {
    case time, terms, values

    var columnFamily: ShardColumnFamily {
        switch self {
        case .time: .time
        case .terms: .terms
        case .values: .values
        }
    }
}
