import PeriscopeModel

/// What a committed Raft entry of a shard asks for. The node validates writes against the
/// namespace's schema and limits before proposing them: a command that reaches a shard is
/// applied as is.
///
/// Start, upsert and close carry the whole record, as Temporal's visibility writes do
/// (`InternalVisibilityRequestBase`), and `version` (Temporal's task id) decides which copy
/// wins, so commands can arrive late, twice or out of order.
public enum ShardCommand: Sendable, Hashable {
    /// Inserts the record if the execution is unknown; otherwise changes nothing (a start is
    /// the first write of an execution, so a stored copy is at least as new).
    case start(VisibilityRecord)
    /// Replaces the stored record if this one's version is newer (or inserts it).
    case upsert(VisibilityRecord)
    /// Replaces the stored record with the closed one if its version is newer (or inserts it).
    case close(VisibilityRecord)
    /// Removes the execution, leaving a tombstone with `version` so that an older write
    /// arriving later cannot bring it back. `at` (the proposer's clock) files the tombstone
    /// in the time partition retention will drop it with. `failoverVersion` is compared
    /// before `version`, as a record's is (`ConflictVersion`).
    case delete(ExecutionKey, version: Int64, at: Timestamp, failoverVersion: Int64 = 0)
    /// Retention: drops every closed partition of the namespace that ends at or before
    /// `closedBefore` (the proposer computes it from its clock and the namespace's retention).
    case expire(namespaceId: String, closedBefore: Timestamp)
    /// Several commands applied atomically, in order. Not nested.
    case batch([ShardCommand])

    /// Writes this region's clients sent, in a deployment of several regions: applied as
    /// usual (unless a failover fenced their namespace, `fence`), and those that changed
    /// something are kept in the shard's outbox, from which other regions replicate them.
    /// `originTime` is the proposer's clock (replication lag is measured from it).
    case replicable(originTime: Timestamp, [ShardCommand])
    /// Writes another region accepted, replicated here (`ReplicatedBatch`).
    case replicated(ReplicatedBatch)
    /// A planned failover drains a namespace: from this entry on, writes of `namespaceId`
    /// this region accepted (`replicable`) at a failover version up to `throughFailoverVersion`
    /// are refused (`fenced`), so none can commit after the drain point. Nil lifts the fence
    /// (a failover cancelled).
    case fence(namespaceId: String, throughFailoverVersion: Int64?)
    /// Every region this shard's outbox feeds has received the entries through `through`:
    /// they are dropped.
    case trimOutbox(through: UInt64)

    /// Upper bound on commands in one batch.
    public static let batchCountMax = 10_000
}

/// A batch of writes from another region's shard (the same shard number: every region of a
/// deployment has the same shard count), replicated into this shard's Raft log.
public struct ReplicatedBatch: Sendable, Hashable {
    /// The region they come from (its index in the deployment).
    public var origin: UInt32
    /// The source shard's log index this region has now received through: applied only
    /// when it is past the cursor kept for `origin`, which it becomes (a batch sent again is
    /// ignored whole). 0: a backfill chunk, applied whatever the cursor and leaving it.
    public var through: UInt64
    /// Single-execution writes, each decided by the conflict rule as any write is.
    public var commands: [ShardCommand]
    /// Namespaces whose backfill from `origin` ends with this batch, each with the version
    /// of the namespace's change it was done for (`Shard.backfilledVersion`).
    public var backfilled: [String: UInt64]

    public init(origin: UInt32, through: UInt64, commands: [ShardCommand], backfilled: [String: UInt64] = [:]) {
        self.origin = origin
        self.through = through
        self.commands = commands
        self.backfilled = backfilled
    }
}

extension ShardCommand {
    /// The entry bytes proposed to Raft.
    public func encoded() -> [UInt8] {
        var writer = BinaryWriter()
        writer.byte(Self.formatV1)
        write(to: &writer)
        return writer.bytes
    }

    /// Decodes entry bytes; a malformed entry is an error, never a crash.
    public static func decode(_ bytes: [UInt8]) throws(DecodingError) -> ShardCommand {
        var reader = BinaryReader(bytes, what: "shard command")
        let format = try reader.byte()
        guard format == formatV1 else { throw reader.failure("unknown command format \(format)") }
        let command = try read(from: &reader, nested: false)
        try reader.expectEnd()
        return command
    }

    static let formatV1: UInt8 = 1

    private enum Tag: UInt8 {
        case start = 1, upsert, close, delete, expire, batch
        /// A delete with a nonzero failover version (tag 4 keeps the bytes of older entries).
        case deleteVersioned, replicable, replicated, fence, trimOutbox
    }

    private func write(to writer: inout BinaryWriter) {
        switch self {
        case .start(let record):
            writer.byte(Tag.start.rawValue)
            RecordCodec.write(record, to: &writer)
        case .upsert(let record):
            writer.byte(Tag.upsert.rawValue)
            RecordCodec.write(record, to: &writer)
        case .close(let record):
            writer.byte(Tag.close.rawValue)
            RecordCodec.write(record, to: &writer)
        case .delete(let key, let version, let time, let failoverVersion):
            writer.byte(failoverVersion == 0 ? Tag.delete.rawValue : Tag.deleteVersioned.rawValue)
            writer.string(key.namespaceId)
            writer.string(key.workflowId)
            writer.string(key.runId)
            writer.signed(version)
            writer.signed(time.nanosecondsSinceEpoch)
            if failoverVersion != 0 { writer.signed(failoverVersion) }
        case .expire(let namespaceId, let closedBefore):
            writer.byte(Tag.expire.rawValue)
            writer.string(namespaceId)
            writer.signed(closedBefore.nanosecondsSinceEpoch)
        case .batch(let commands):
            writer.byte(Tag.batch.rawValue)
            Self.write(commands, to: &writer)
        case .replicable(let originTime, let commands):
            writer.byte(Tag.replicable.rawValue)
            writer.signed(originTime.nanosecondsSinceEpoch)
            Self.write(commands, to: &writer)
        case .replicated(let batch):
            writer.byte(Tag.replicated.rawValue)
            writer.varint(UInt64(batch.origin))
            writer.varint(batch.through)
            Self.write(batch.commands, to: &writer)
            writer.varint(UInt64(batch.backfilled.count))
            for (namespace, version) in batch.backfilled.sorted(by: { $0.key < $1.key }) {
                writer.string(namespace)
                writer.varint(version)
            }
        case .fence(let namespaceId, let through):
            writer.byte(Tag.fence.rawValue)
            writer.string(namespaceId)
            if let through {
                writer.byte(1)
                writer.signed(through)
            } else {
                writer.byte(0)
            }
        case .trimOutbox(let through):
            writer.byte(Tag.trimOutbox.rawValue)
            writer.varint(through)
        }
    }

    private static func write(_ commands: [ShardCommand], to writer: inout BinaryWriter) {
        writer.varint(UInt64(commands.count))
        for command in commands { command.write(to: &writer) }
    }

    /// Commands of an envelope (batch, replicable, replicated): single-execution writes, or
    /// for a batch also retention; never another envelope.
    private static func readCommands(from reader: inout BinaryReader, writesOnly: Bool) throws(DecodingError) -> [ShardCommand] {
        let count = try reader.count(max: batchCountMax)
        var commands: [ShardCommand] = []
        commands.reserveCapacity(count)
        for _ in 0..<count {
            let command = try read(from: &reader, nested: true)
            if writesOnly, command.executionKey == nil { throw reader.failure("only writes of one execution may be replicated") }
            commands.append(command)
        }
        return commands
    }

    private static func read(from reader: inout BinaryReader, nested: Bool) throws(DecodingError) -> ShardCommand {
        let code = try reader.byte()
        guard let tag = Tag(rawValue: code) else { throw reader.failure("unknown command tag \(code)") }
        switch tag {
        case .start: return .start(try RecordCodec.read(from: &reader))
        case .upsert: return .upsert(try RecordCodec.read(from: &reader))
        case .close: return .close(try RecordCodec.read(from: &reader))
        case .delete, .deleteVersioned:
            let key = ExecutionKey(namespaceId: try reader.string(), workflowId: try reader.string(), runId: try reader.string())
            let version = try reader.signed()
            let time = Timestamp(nanosecondsSinceEpoch: try reader.signed())
            return .delete(key, version: version, at: time, failoverVersion: tag == .deleteVersioned ? try reader.signed() : 0)
        case .expire:
            return .expire(namespaceId: try reader.string(), closedBefore: Timestamp(nanosecondsSinceEpoch: try reader.signed()))
        case .batch, .replicable, .replicated, .fence, .trimOutbox:
            guard !nested else { throw reader.failure("a command of kind \(tag) inside another") }
            return try readEnvelope(tag, from: &reader)
        }
    }

    private static func readEnvelope(_ tag: Tag, from reader: inout BinaryReader) throws(DecodingError) -> ShardCommand {
        switch tag {
        case .batch: return .batch(try readCommands(from: &reader, writesOnly: false))
        case .replicable:
            let time = Timestamp(nanosecondsSinceEpoch: try reader.signed())
            return .replicable(originTime: time, try readCommands(from: &reader, writesOnly: true))
        case .replicated:
            let originRaw = try reader.varint()
            guard let origin = UInt32(exactly: originRaw) else { throw reader.failure("region index \(originRaw) is out of range") }
            let through = try reader.varint()
            let commands = try readCommands(from: &reader, writesOnly: true)
            let count = try reader.count(max: batchCountMax)
            var backfilled: [String: UInt64] = [:]
            for _ in 0..<count { backfilled[try reader.string()] = try reader.varint() }
            return .replicated(ReplicatedBatch(origin: origin, through: through, commands: commands, backfilled: backfilled))
        case .fence:
            let namespace = try reader.string()
            switch try reader.byte() {
            case 0: return .fence(namespaceId: namespace, throughFailoverVersion: nil)
            case 1: return .fence(namespaceId: namespace, throughFailoverVersion: try reader.signed())
            case let other: throw reader.failure("unknown fence flag \(other)")
            }
        case .trimOutbox: return .trimOutbox(through: try reader.varint())
        case .start, .upsert, .close, .delete, .deleteVersioned, .expire:
            preconditionFailure("\(tag) is not an envelope")
        }
    }
}
