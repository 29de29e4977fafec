/// One message of the `pgoutput` logical decoding plugin (protocol version 1), the plugin
/// built into PostgreSQL that its own logical replication uses. Values arrive in text format.
public enum PgOutputMessage: Equatable, Sendable {
    case begin(finalLSN: LSN, commitTimeMicroseconds: Int64, transaction: UInt32)
    case commit(commitLSN: LSN, endLSN: LSN, commitTimeMicroseconds: Int64)
    /// A table's columns, sent before its first change in a session (and after it changes).
    case relation(Relation)
    case insert(relation: UInt32, new: [TupleValue])
    /// `old` is the key (or the whole old row) when the table's replica identity sends it.
    case update(relation: UInt32, old: [TupleValue]?, new: [TupleValue])
    case delete(relation: UInt32, old: [TupleValue])
    case truncate(relations: [UInt32])
    /// Messages the migration does not act on (origin, type, logical messages).
    case other(UInt8)

    public struct Relation: Equatable, Sendable {
        public var id: UInt32
        public var schema: String
        public var name: String
        public var columns: [String]
        /// Which columns are in the replica identity (the key sent with deletes).
        public var keyColumns: Set<String>
    }

    /// One column's value in a change.
    public enum TupleValue: Equatable, Sendable {
        case null
        /// A large (TOASTed) value the change did not touch: the server does not resend it.
        case unchangedToast
        case text(String)
    }

    public static func decode(_ bytes: [UInt8]) throws(WireError) -> PgOutputMessage {
        var reader = WireReader(bytes)
        let tag = try reader.byte("pgoutput message type")
        switch tag {
        case UInt8(ascii: "B"):
            return .begin(finalLSN: LSN(try reader.uint64("begin final LSN")), commitTimeMicroseconds: try reader.int64("begin commit time"),
                          transaction: try reader.uint32("begin transaction id"))
        case UInt8(ascii: "C"):
            _ = try reader.byte("commit flags")
            return .commit(commitLSN: LSN(try reader.uint64("commit LSN")), endLSN: LSN(try reader.uint64("commit end LSN")),
                           commitTimeMicroseconds: try reader.int64("commit time"))
        case UInt8(ascii: "R"):
            return .relation(try relation(&reader))
        case UInt8(ascii: "I"):
            let id = try reader.uint32("insert relation")
            guard try reader.byte("insert tuple marker") == UInt8(ascii: "N") else { throw WireError.malformed("an insert without its new tuple") }
            return .insert(relation: id, new: try tuple(&reader))
        case UInt8(ascii: "U"):
            let id = try reader.uint32("update relation")
            var marker = try reader.byte("update tuple marker")
            var old: [TupleValue]?
            if marker == UInt8(ascii: "K") || marker == UInt8(ascii: "O") {
                old = try tuple(&reader)
                marker = try reader.byte("update new tuple marker")
            }
            guard marker == UInt8(ascii: "N") else { throw WireError.malformed("an update without its new tuple") }
            return .update(relation: id, old: old, new: try tuple(&reader))
        case UInt8(ascii: "D"):
            let id = try reader.uint32("delete relation")
            let marker = try reader.byte("delete tuple marker")
            guard marker == UInt8(ascii: "K") || marker == UInt8(ascii: "O") else { throw WireError.malformed("a delete without its key") }
            return .delete(relation: id, old: try tuple(&reader))
        case UInt8(ascii: "T"):
            let count = try reader.uint32("truncate relation count")
            _ = try reader.byte("truncate options")
            guard count <= 65_536 else { throw WireError.malformed("a truncate of \(count) relations") }
            var ids: [UInt32] = []
            for _ in 0..<count { ids.append(try reader.uint32("truncate relation")) }
            return .truncate(relations: ids)
        case UInt8(ascii: "O"), UInt8(ascii: "Y"), UInt8(ascii: "M"):
            return .other(tag)
        default:
            throw WireError.unknownMessage(tag, at: "pgoutput")
        }
    }

    private static func relation(_ reader: inout WireReader) throws(WireError) -> Relation {
        let id = try reader.uint32("relation id")
        let schema = try reader.string("relation schema")
        let name = try reader.string("relation name")
        _ = try reader.byte("relation replica identity")
        let count = try reader.uint16("relation column count")
        var columns: [String] = []
        var key: Set<String> = []
        for _ in 0..<count {
            let flags = try reader.byte("column flags")
            let column = try reader.string("column name")
            _ = try reader.uint32("column type")
            _ = try reader.int32("column type modifier")
            columns.append(column)
            if flags & 1 == 1 { key.insert(column) }
        }
        return Relation(id: id, schema: schema, name: name, columns: columns, keyColumns: key)
    }

    private static func tuple(_ reader: inout WireReader) throws(WireError) -> [TupleValue] {
        let count = try reader.uint16("tuple column count")
        var values: [TupleValue] = []
        values.reserveCapacity(Int(count))
        for _ in 0..<count {
            switch try reader.byte("tuple value kind") {
            case UInt8(ascii: "n"): values.append(.null)
            case UInt8(ascii: "u"): values.append(.unchangedToast)
            case UInt8(ascii: "t"):
                let length = try reader.int32("tuple value length")
                values.append(.text(String(decoding: try reader.bytes(Int(length), "tuple value"), as: UTF8.self)))
            case let kind:
                throw WireError.malformed("tuple value of unknown kind \(kind) (binary values are not asked for)")
            }
        }
        return values
    }
}
