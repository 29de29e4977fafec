import PeriscopeModel

/// The streaming replication protocol's messages inside CopyData: what the server sends
/// (WAL data, keepalives) and the standby status update the client answers with.
public enum ServerReplicationMessage: Equatable, Sendable {
    /// A piece of decoded WAL: the logical decoding plugin's message (`pgoutput`) that
    /// starts at `start`.
    case data(start: LSN, walEnd: LSN, payload: [UInt8])
    /// The server's position; `replyRequested` asks for a status update at once.
    case keepalive(walEnd: LSN, replyRequested: Bool)

    public static func decode(_ bytes: [UInt8]) throws(WireError) -> ServerReplicationMessage {
        var reader = WireReader(bytes)
        let tag = try reader.byte("message type")
        switch tag {
        case UInt8(ascii: "w"):
            let start = LSN(try reader.uint64("XLogData start"))
            let end = LSN(try reader.uint64("XLogData WAL end"))
            _ = try reader.uint64("XLogData send time")
            return .data(start: start, walEnd: end, payload: try reader.bytes(bytes.count - reader.offset, "XLogData payload"))
        case UInt8(ascii: "k"):
            let end = LSN(try reader.uint64("keepalive WAL end"))
            _ = try reader.uint64("keepalive send time")
            return .keepalive(walEnd: end, replyRequested: try reader.byte("keepalive reply flag") != 0)
        default:
            throw WireError.unknownMessage(tag, at: "replication")
        }
    }
}

/// The client's standby status update: it has durably applied everything before `flushed`,
/// so the server may release the WAL before it (the slot's `confirmed_flush_lsn`).
public struct StandbyStatusUpdate: Equatable, Sendable {
    public var flushed: LSN
    /// Microseconds since 2000-01-01 UTC, PostgreSQL's epoch.
    public var clientTimeMicroseconds: Int64
    /// Asks the server to answer at once (with a keepalive): how a silent connection is found.
    public var replyRequested: Bool

    public init(flushed: LSN, clientTimeMicroseconds: Int64, replyRequested: Bool = false) {
        self.flushed = flushed
        self.clientTimeMicroseconds = clientTimeMicroseconds
        self.replyRequested = replyRequested
    }

    public func encoded() -> [UInt8] {
        var writer = WireWriter()
        writer.byte(UInt8(ascii: "r"))
        writer.uint64(flushed.value)  // written
        writer.uint64(flushed.value)  // flushed
        writer.uint64(flushed.value)  // applied
        writer.int64(clientTimeMicroseconds)
        writer.byte(replyRequested ? 1 : 0)
        return writer.bytes
    }

    /// Microseconds between 1970-01-01 and PostgreSQL's epoch, 2000-01-01.
    public static let postgresEpochMicroseconds: Int64 = 946_684_800_000_000

    /// `time` as PostgreSQL's protocol counts it: microseconds since 2000-01-01.
    public static func postgresMicroseconds(_ time: Timestamp) -> Int64 { time.nanosecondsSinceEpoch / 1_000 - postgresEpochMicroseconds }
}
