import Foundation

/// The indexes' watermark, published by the indexer after each batch, and waited on by
/// reads that need a given index covered (read-your-writes, strong).
final class IndexProgress: @unchecked Sendable {
    // @unchecked: `watermark` is only touched with `condition` locked.
    private let condition = NSCondition()
    private var watermark: UInt64

    init(watermark: UInt64) { self.watermark = watermark }

    /// The watermark now.
    var current: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return watermark
    }

    func publish(_ newWatermark: UInt64) {
        condition.lock()
        watermark = max(watermark, newWatermark)
        condition.broadcast()
        condition.unlock()
    }

    /// Sets the watermark outright, even backwards: the shard's contents were replaced by a
    /// snapshot whose indexes stand elsewhere.
    func reset(to newWatermark: UInt64) {
        condition.lock()
        watermark = newWatermark
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks until the watermark reaches `index` or `timeout` passes; returns the watermark.
    func wait(for index: UInt64, timeout: Duration) -> UInt64 {
        let deadline = Date(timeIntervalSinceNow: timeout.seconds)
        condition.lock()
        defer { condition.unlock() }
        while watermark < index {
            guard condition.wait(until: deadline) else { break }
        }
        return watermark
    }
}
