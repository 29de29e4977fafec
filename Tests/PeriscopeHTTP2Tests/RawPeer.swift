import NIOCore
import NIOPosix
import Synchronization

/// A hand-rolled HTTP/2 peer on a plain socket: sends exactly the bytes a test crafts
/// (garbage, truncated or oversized frames) and records every byte the server answers.
final class RawPeer: Sendable {
    private let channel: any Channel
    private let received: ReceivedBytes

    static func connect(port: Int) async throws -> RawPeer {
        let received = ReceivedBytes()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(received: received))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawPeer(channel: channel, received: received)
    }

    private init(channel: any Channel, received: ReceivedBytes) {
        self.channel = channel
        self.received = received
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// Waits until the server closes the connection (or `timeout`); returns whether it did.
    func waitForClose(timeout: Duration = .seconds(5)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if !channel.isActive { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    /// Waits until a frame matching `predicate` has arrived (or `timeout`).
    func waitForFrame(timeout: Duration = .seconds(5), where predicate: (Frame) -> Bool) async -> Frame? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let frame = frames.first(where: predicate) { return frame }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    func close() async { try? await channel.close() }

    var frames: [Frame] { Frame.parse(received.bytes) }

    struct Frame: CustomStringConvertible {
        var type: UInt8
        var flags: UInt8
        var streamID: UInt32
        var payload: [UInt8]

        static let data: UInt8 = 0, headers: UInt8 = 1, rstStream: UInt8 = 3, settings: UInt8 = 4,
                   ping: UInt8 = 6, goAway: UInt8 = 7, windowUpdate: UInt8 = 8

        /// RST_STREAM's or GOAWAY's error code.
        var errorCode: UInt32? {
            switch type {
            case Self.rstStream: return payload.count >= 4 ? Self.uint32(payload, 0) : nil
            case Self.goAway: return payload.count >= 8 ? Self.uint32(payload, 4) : nil
            default: return nil
            }
        }

        var goAwayDebugText: String {
            type == Self.goAway && payload.count > 8 ? String(decoding: payload[8...], as: UTF8.self) : ""
        }

        var description: String { "frame(type \(type), flags \(flags), stream \(streamID), \(payload.count) bytes)" }

        static func uint32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
            bytes[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) }
        }

        static func parse(_ bytes: [UInt8]) -> [Frame] {
            var frames: [Frame] = [], offset = 0
            while offset + 9 <= bytes.count {
                let length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
                guard offset + 9 + length <= bytes.count else { break }
                frames.append(Frame(type: bytes[offset + 3], flags: bytes[offset + 4],
                                    streamID: uint32(bytes, offset + 5) & 0x7FFF_FFFF,
                                    payload: Array(bytes[(offset + 9)..<(offset + 9 + length)])))
                offset += 9 + length
            }
            return frames
        }
    }
}

private final class ReceivedBytes: Sendable {
    private let storage = Mutex<[UInt8]>([])
    func append(_ buffer: ByteBuffer) { storage.withLock { $0.append(contentsOf: buffer.readableBytesView) } }
    var bytes: [UInt8] { storage.withLock { $0 } }
}

private final class Collector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let received: ReceivedBytes
    init(received: ReceivedBytes) { self.received = received }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received.append(unwrapInboundIn(data))
    }
}

/// Frame and header-block builders for crafted input.
enum Wire {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    static func frame(type: UInt8, flags: UInt8 = 0, stream: UInt32 = 0, payload: [UInt8] = [], declaredLength: Int? = nil) -> [UInt8] {
        let length = declaredLength ?? payload.count
        return [UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), type, flags,
                UInt8(stream >> 24 & 0x7F), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF)]
            + payload
    }

    static let emptySettings = frame(type: RawPeer.Frame.settings)

    /// HPACK without Huffman or indexing: `:method POST`, `:scheme http` from the static
    /// table, then literal fields.
    static func requestBlock(path: String, extra: [(String, String)] = []) -> [UInt8] {
        var block: [UInt8] = [0x83, 0x86]
        block += literal(indexedName: 4, value: path)       // :path
        block += literal(indexedName: 1, value: "localhost") // :authority
        for (name, value) in extra { block += literal(name: name, value: value) }
        return block
    }

    static func literal(indexedName: UInt8, value: String) -> [UInt8] {
        [indexedName] + string(value)
    }

    static func literal(name: String, value: String) -> [UInt8] {
        [0x00] + string(name) + string(value)
    }

    /// An HPACK string literal (no Huffman), with the 7-bit-prefix integer length.
    static func string(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        var length: [UInt8] = []
        if bytes.count < 127 {
            length = [UInt8(bytes.count)]
        } else {
            length = [127]
            var rest = bytes.count - 127
            while rest >= 128 { length.append(UInt8(rest % 128 + 128)); rest /= 128 }
            length.append(UInt8(rest))
        }
        return length + bytes
    }

    static func headers(stream: UInt32, block: [UInt8], endStream: Bool) -> [UInt8] {
        frame(type: RawPeer.Frame.headers, flags: 0x4 | (endStream ? 0x1 : 0), stream: stream, payload: block)
    }
}
