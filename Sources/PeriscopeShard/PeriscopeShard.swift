/// One shard replica's storage engine: committed commands applied to versioned records in
/// RocksDB, asynchronous inverted, value and time-partitioned indexes built from a change
/// feed, retention by partition, and verification. See docs/design.md, "The shard engine".
///
/// The node feeds it committed Raft entries (`Shard.apply`) and runs its indexer; nothing
/// here knows about Raft, sockets or threads of its own.
