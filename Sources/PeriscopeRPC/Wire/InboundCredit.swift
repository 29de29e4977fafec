/// When received bytes go back to the HTTP/2 flow-control window, for one direction of a
/// streaming call. Bytes are returned at once while the consumer keeps up; once more than
/// `buffered + oneMessage` bytes wait untaken, further bytes are owed, the window closes,
/// and the sender stops. They are repaid when the consumer has taken enough to be back
/// under `buffered`. So a slow consumer slows the sender instead of growing a buffer, and
/// any single message up to `oneMessage` bytes can always arrive whole.
///
/// Pure bookkeeping: the caller applies the numbers it returns to the stream.
struct InboundCredit {
    let buffered: Int
    let oneMessage: Int
    /// Wire bytes received and not yet taken by the consumer.
    private(set) var untaken = 0
    /// Wire bytes received but not yet returned to the window.
    private(set) var owed = 0

    init(buffered: Int, oneMessage: Int) {
        self.buffered = buffered
        self.oneMessage = oneMessage
    }

    /// `count` wire bytes arrived; returns how many to return to the window now.
    mutating func received(_ count: Int) -> Int {
        untaken += count
        guard owed == 0, untaken <= buffered + oneMessage else {
            owed += count
            return 0
        }
        return count
    }

    /// The consumer took a message that was `count` wire bytes (prefix included); returns
    /// how many owed bytes to return to the window now.
    mutating func taken(_ count: Int) -> Int {
        untaken = max(0, untaken - count)
        guard owed > 0, untaken <= buffered else { return 0 }
        defer { owed = 0 }
        return owed
    }
}
