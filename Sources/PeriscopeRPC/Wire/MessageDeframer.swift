import NIOCore

/// gRPC's length-prefixed messages: a 1-byte compressed flag, a 4-byte big-endian length,
/// then the message. One deframer per direction of a call; bounded by `maxMessageBytes`.
struct MessageDeframer {
    let maxMessageBytes: Int
    /// Nil until bytes arrive; the first chunk is kept as is (often a slice of the read).
    private var buffer: ByteBuffer?

    init(maxMessageBytes: Int) { self.maxMessageBytes = maxMessageBytes }

    /// Bytes held for a message not yet complete.
    var bufferedBytes: Int { buffer?.readableBytes ?? 0 }

    mutating func append(_ bytes: inout ByteBuffer) {
        guard var held = buffer, held.readableBytes > 0 else {
            buffer = bytes
            return
        }
        buffer = nil  // `held` is now the only reference: the writes below need no copy
        // The bytes before the reader index belong to messages already handed out; without
        // this, a long stream whose messages straddle reads would grow the buffer forever.
        if held.readerIndex > 0 { held.discardReadBytes() }
        held.writeBuffer(&bytes)
        buffer = held
    }

    /// Bytes of storage held, read or not (for tests of the bound).
    var heldCapacity: Int { buffer?.capacity ?? 0 }

    /// The next complete message, if one has arrived.
    mutating func next() throws(RPCStatus) -> ByteBuffer? {
        guard var buffer, buffer.readableBytes >= 5 else { return nil }
        let start = buffer.readerIndex
        let flag = buffer.getInteger(at: start, as: UInt8.self)!
        let length = Int(buffer.getInteger(at: start + 1, as: UInt32.self)!)
        guard flag == 0 else {
            throw flag == 1
                ? RPCStatus(.internalError, "a message is marked compressed, but no grpc-encoding was agreed; "
                    + "Periscope accepts identity encoding only")
                : RPCStatus(.internalError, "message frame has compressed-flag \(flag); only 0 or 1 are defined")
        }
        guard length <= maxMessageBytes else {
            throw RPCStatus(.resourceExhausted,
                            "message of \(length) bytes exceeds the limit of \(maxMessageBytes) bytes")
        }
        guard buffer.readableBytes >= 5 + length else { return nil }
        buffer.moveReaderIndex(forwardBy: 5)
        let message = buffer.readSlice(length: length)!
        self.buffer = buffer.readableBytes == 0 ? nil : buffer
        return message
    }

    /// At end of stream nothing may be left over: a length prefix that promised more bytes
    /// than arrived is the peer's error, reported with both numbers.
    func checkComplete() throws(RPCStatus) {
        guard let buffer else { return }
        let left = buffer.readableBytes
        guard left > 0 else { return }
        if left < 5 {
            throw RPCStatus(.invalidArgument, "the stream ended inside a message prefix (\(left) of 5 bytes)")
        }
        let length = Int(buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self)!)
        throw RPCStatus(.invalidArgument,
                        "the stream ended inside a message: its length prefix says \(length) bytes, \(left - 5) arrived")
    }
}
