import PeriscopeModel

/// What the locator holds for one execution: whether it is live (and in which partition its
/// record is) or deleted, the version that decided it, and the last entry that changed it.
struct ExecutionState: Equatable, Sendable {
    enum Kind: UInt8, Sendable { case live = 1, tombstone = 2 }

    var kind: Kind
    var version: Int64
    /// A live record's partition; a tombstone's is the partition of its deletion time, so
    /// retention drops it with the executions deleted then.
    var partition: Partition
    /// The applied index of the latest change to this execution. Change records chain to
    /// the previous one, so the indexer can find the state as of any index it stops at.
    var lastChange: UInt64
    /// The failover version of the write that decided this state (0 before the namespace's
    /// first failover). Written after `lastChange` only when nonzero, so states written
    /// before failover versions existed keep their bytes.
    var failoverVersion: Int64 = 0

    var conflictVersion: ConflictVersion { ConflictVersion(failoverVersion: failoverVersion, version: version) }

    func encoded() -> [UInt8] {
        var writer = BinaryWriter(capacity: 24)
        writer.byte(kind.rawValue)
        writer.signed(version)
        switch partition {
        case .open: writer.byte(0)
        case .closed(let bucket):
            writer.byte(1)
            writer.signed(bucket)
        }
        writer.varint(lastChange)
        if failoverVersion != 0 { writer.signed(failoverVersion) }
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(DecodingError) -> ExecutionState {
        var reader = BinaryReader(bytes, what: "execution state")
        let code = try reader.byte()
        guard let kind = Kind(rawValue: code) else { throw reader.failure("unknown state kind \(code)") }
        let version = try reader.signed()
        let partition: Partition
        switch try reader.byte() {
        case 0: partition = .open
        case 1: partition = .closed(bucket: try reader.signed())
        case let other: throw reader.failure("unknown partition kind \(other)")
        }
        var state = ExecutionState(kind: kind, version: version, partition: partition, lastChange: try reader.varint())
        if !reader.isAtEnd { state.failoverVersion = try reader.signed() }
        try reader.expectEnd()
        return state
    }

    /// Whether retention has dropped this state (partitions through `horizon` are gone).
    func isExpired(horizon: Int64?) -> Bool {
        guard let horizon, case .closed(let bucket) = partition else { return false }
        return bucket <= horizon
    }
}
