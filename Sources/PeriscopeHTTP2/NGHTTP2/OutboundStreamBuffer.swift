import NIOCore

/// Body bytes queued for one stream until nghttp2's data source callback pulls them, which
/// it does only as far as the peer's flow-control windows allow.
struct OutboundStreamBuffer {
    private var chunks = CircularBuffer<ByteBuffer>()
    private(set) var bufferedBytes = 0
    /// The writer has finished: after the last byte, END_STREAM (or trailers) follows.
    var isFinished = false
    /// Trailers to send after the last DATA frame, if any.
    var trailers: HTTP2Headers?
    /// nghttp2 was told "deferred" and must be resumed when bytes arrive.
    var isDeferred = false

    mutating func append(_ buffer: ByteBuffer) {
        guard buffer.readableBytes > 0 else { return }
        bufferedBytes += buffer.readableBytes
        chunks.append(buffer)
    }

    /// Copies up to `capacity` bytes into `destination`; returns how many.
    mutating func drain(into destination: UnsafeMutableRawBufferPointer) -> Int {
        var copied = 0
        while copied < destination.count, var chunk = chunks.popFirst() {
            let take = min(chunk.readableBytes, destination.count - copied)
            chunk.withUnsafeReadableBytes { source in
                UnsafeMutableRawBufferPointer(rebasing: destination[copied..<(copied + take)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<take]))
            }
            chunk.moveReaderIndex(forwardBy: take)
            copied += take
            if chunk.readableBytes > 0 { chunks.prepend(chunk) }
        }
        bufferedBytes -= copied
        return copied
    }
}
