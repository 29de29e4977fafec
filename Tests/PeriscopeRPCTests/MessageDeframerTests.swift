import NIOCore
@testable import PeriscopeRPC
import Testing

@Suite("RPC: message framing and receive credit")
struct MessageDeframerTests {
    func framed(_ payload: [UInt8]) -> [UInt8] {
        let length = UInt32(payload.count)
        return [0, UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + payload
    }

    /// 2 MB of 1,000-byte messages arriving in 777-byte reads, so nearly every message
    /// straddles two reads: every message comes out intact and the held storage stays small
    /// (without compaction it grows with everything ever received).
    @Test func aLongStreamOfStraddlingMessagesStaysBounded() throws {
        var deframer = MessageDeframer(maxMessageBytes: 4 << 20)
        let count = 2_000
        var wire = ByteBuffer()
        for index in 0..<count {
            wire.writeBytes(framed([UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 1_000)))
        }
        var received = 0
        var largestCapacity = 0
        while wire.readableBytes > 0 {
            var read = wire.readSlice(length: min(777, wire.readableBytes))!
            deframer.append(&read)
            while let message = try deframer.next() {
                let view = message.readableBytesView
                #expect(view.count == 1_000 && view.first == UInt8(truncatingIfNeeded: received) && view.last == view.first)
                received += 1
            }
            largestCapacity = max(largestCapacity, deframer.heldCapacity)
        }
        try deframer.checkComplete()
        #expect(received == count)
        #expect(largestCapacity <= 8 << 10, "the deframer held \(largestCapacity) bytes of storage")
    }

    @Test func creditReturnsBytesWhileTheConsumerKeepsUpAndOwesThemWhenItDoesNot() {
        var credit = InboundCredit(buffered: 100, oneMessage: 50)
        #expect(credit.received(100) == 100)
        #expect(credit.received(50) == 50)   // up to buffered + one message
        #expect(credit.received(10) == 0)    // beyond: owed, the window closes
        #expect(credit.received(10) == 0)
        #expect(credit.owed == 20)
        #expect(credit.taken(30) == 0)       // 140 untaken: still above buffered
        #expect(credit.taken(40) == 20)      // 100 untaken: repaid at once
        #expect(credit.owed == 0)
        #expect(credit.received(5) == 5)
        #expect(credit.untaken == 105)
        #expect(credit.taken(1_000) == 0)    // never below zero
        #expect(credit.untaken == 0)
    }
}
