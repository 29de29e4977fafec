import NIOCore

/// Body bytes queued for one stream until nghttp2's data source callback pulls them, which
/// it does only as far as the peer's flow-control windows allow.
struct OutboundStreamBuffer {
    /// Most streams queue one chunk (a unary response); the queue is allocated on the second.
    private var first: ByteBuffer?
    private var more: CircularBuffer<ByteBuffer>?
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
        if first == nil && more?.isEmpty != false {
            first = buffer
        } else {
            more = more ?? CircularBuffer(initialCapacity: 4)
            more!.append(buffer)
        }
    }

    private mutating func popFirst() -> ByteBuffer? {
        if let chunk = first {
            first = nil
            return chunk
        }
        return more?.popFirst()
    }

    private mutating func pushFront(_ chunk: ByteBuffer) {
        if first == nil {
            first = chunk
        } else {
            more = more ?? CircularBuffer(initialCapacity: 4)
            more!.prepend(chunk)
        }
    }

    /// Copies up to `capacity` bytes into `destination`; returns how many.
    mutating func drain(into destination: UnsafeMutableRawBufferPointer) -> Int {
        var copied = 0
        while copied < destination.count, var chunk = popFirst() {
            let take = min(chunk.readableBytes, destination.count - copied)
            chunk.withUnsafeReadableBytes { source in
                UnsafeMutableRawBufferPointer(rebasing: destination[copied..<(copied + take)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<take]))
            }
            chunk.moveReaderIndex(forwardBy: take)
            copied += take
            if chunk.readableBytes > 0 { pushFront(chunk) }
        }
        bufferedBytes -= copied
        return copied
    }
}
