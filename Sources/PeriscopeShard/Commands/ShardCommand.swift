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
    /// in the time partition retention will drop it with.
    case delete(ExecutionKey, version: Int64, at: Timestamp)
    /// Retention: drops every closed partition of the namespace that ends at or before
    /// `closedBefore` (the proposer computes it from its clock and the namespace's retention).
    case expire(namespaceId: String, closedBefore: Timestamp)
    /// Several commands applied atomically, in order. Not nested.
    case batch([ShardCommand])

    /// Upper bound on commands in one batch.
    public static let batchCountMax = 10_000
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
        case .delete(let key, let version, let time):
            writer.byte(Tag.delete.rawValue)
            writer.string(key.namespaceId)
            writer.string(key.workflowId)
            writer.string(key.runId)
            writer.signed(version)
            writer.signed(time.nanosecondsSinceEpoch)
        case .expire(let namespaceId, let closedBefore):
            writer.byte(Tag.expire.rawValue)
            writer.string(namespaceId)
            writer.signed(closedBefore.nanosecondsSinceEpoch)
        case .batch(let commands):
            writer.byte(Tag.batch.rawValue)
            writer.varint(UInt64(commands.count))
            for command in commands { command.write(to: &writer) }
        }
    }

    private static func read(from reader: inout BinaryReader, nested: Bool) throws(DecodingError) -> ShardCommand {
        let code = try reader.byte()
        guard let tag = Tag(rawValue: code) else { throw reader.failure("unknown command tag \(code)") }
        switch tag {
        case .start: return .start(try RecordCodec.read(from: &reader))
        case .upsert: return .upsert(try RecordCodec.read(from: &reader))
        case .close: return .close(try RecordCodec.read(from: &reader))
        case .delete:
            let key = ExecutionKey(namespaceId: try reader.string(), workflowId: try reader.string(), runId: try reader.string())
            return .delete(key, version: try reader.signed(), at: Timestamp(nanosecondsSinceEpoch: try reader.signed()))
        case .expire:
            return .expire(namespaceId: try reader.string(), closedBefore: Timestamp(nanosecondsSinceEpoch: try reader.signed()))
        case .batch:
            guard !nested else { throw reader.failure("a batch inside a batch") }
            let count = try reader.count(max: batchCountMax)
            var commands: [ShardCommand] = []
            commands.reserveCapacity(count)
            for _ in 0..<count { commands.append(try read(from: &reader, nested: true)) }
            return .batch(commands)
        }
    }
}
