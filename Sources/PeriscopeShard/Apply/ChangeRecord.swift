import PeriscopeModel

/// What one applied entry changed, for the indexer: each execution it touched with the
/// record it had before the entry (nil if none was live) and the index of its previous
/// change, and the partitions retention dropped.
struct ChangeRecord: Equatable, Sendable {
    struct Touch: Equatable, Sendable {
        var key: ExecutionKey
        var previousChange: UInt64
        var before: VisibilityRecord?
    }

    struct Expiry: Equatable, Sendable {
        var namespaceId: String
        var throughBucket: Int64
    }

    var touches: [Touch] = []
    var expiries: [Expiry] = []

    var isEmpty: Bool { touches.isEmpty && expiries.isEmpty }

    func encoded() -> [UInt8] {
        var writer = BinaryWriter(capacity: 64 + touches.count * 200)
        writer.byte(Self.formatV1)
        writer.varint(UInt64(touches.count))
        for touch in touches {
            writer.string(touch.key.namespaceId)
            writer.string(touch.key.workflowId)
            writer.string(touch.key.runId)
            writer.varint(touch.previousChange)
            if let before = touch.before {
                writer.byte(1)
                RecordCodec.write(before, to: &writer)
            } else {
                writer.byte(0)
            }
        }
        writer.varint(UInt64(expiries.count))
        for expiry in expiries {
            writer.string(expiry.namespaceId)
            writer.signed(expiry.throughBucket)
        }
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(DecodingError) -> ChangeRecord {
        var reader = BinaryReader(bytes, what: "change record")
        let format = try reader.byte()
        guard format == formatV1 else { throw reader.failure("unknown change format \(format)") }
        var change = ChangeRecord()
        for _ in 0..<(try reader.count(max: bytes.count)) {
            let key = ExecutionKey(namespaceId: try reader.string(), workflowId: try reader.string(), runId: try reader.string())
            let previous = try reader.varint()
            let before: VisibilityRecord?
            switch try reader.byte() {
            case 0: before = nil
            case 1: before = try RecordCodec.read(from: &reader)
            case let other: throw reader.failure("unknown presence byte \(other)")
            }
            change.touches.append(Touch(key: key, previousChange: previous, before: before))
        }
        for _ in 0..<(try reader.count(max: bytes.count)) {
            change.expiries.append(Expiry(namespaceId: try reader.string(), throughBucket: try reader.signed()))
        }
        try reader.expectEnd()
        return change
    }

    static let formatV1: UInt8 = 1
}
