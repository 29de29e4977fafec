import NIOCore
import SwiftProtobuf

/// Raw inbound messages of a streaming call, with a callback that returns each message's
/// bytes to the flow-control window once the handler has taken it: a slow handler slows
/// the sender instead of growing a buffer.
struct RPCInbound: Sendable {
    let messages: AsyncThrowingStream<ByteBuffer, any Error>
    let taken: @Sendable (Int) -> Void
}

/// Sends one encoded message and waits until the stream can take more.
struct RPCOutbound: Sendable {
    let send: @Sendable (ByteBuffer) async throws -> Void
}

/// The request messages of a streaming call, decoded, in order; ends when the client ends
/// its side, throws if the call fails.
public struct RPCRequestStream<Message: SwiftProtobuf.Message & Sendable>: AsyncSequence, Sendable {
    public typealias Element = Message
    let inbound: RPCInbound
    let codec: MessageCodec

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator
        let taken: @Sendable (Int) -> Void
        let codec: MessageCodec

        public mutating func next() async throws -> Message? {
            guard let bytes = try await base.next() else { return nil }
            taken(bytes.readableBytes)
            return try codec.decode(Message.self, from: bytes)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: inbound.messages.makeAsyncIterator(), taken: inbound.taken, codec: codec)
    }
}

/// Sends response messages of a streaming call. `send` returns when the message is queued
/// within the stream's buffer limit (back-pressure).
public struct RPCResponseWriter<Message: SwiftProtobuf.Message & Sendable>: Sendable {
    let outbound: RPCOutbound
    let codec: MessageCodec

    public func send(_ message: Message) async throws {
        try await outbound.send(codec.encode(message, allocator: ByteBufferAllocator()))
    }
}
