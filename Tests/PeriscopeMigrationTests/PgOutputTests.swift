import PeriscopeModel
import Testing
@testable import PeriscopeMigration

/// pgoutput and replication protocol messages, built byte by byte as the server sends them.
@Suite struct PgOutputTests {
    @Test func lsnParsesAndPrintsAsTheServerDoes() {
        #expect(LSN("0/1A1C0E0")?.value == 0x1A1C0E0)
        #expect(LSN("16/B374D848")?.value == 0x16_B374_D848)
        #expect(LSN(0x16_B374_D848).description == "16/B374D848")
        for bad in ["", "1A1C0E0", "0/", "/5", "x/1", "1/2/3", "100000000/0"] { #expect(LSN(bad) == nil, "\(bad)") }
    }

    @Test func xlogDataAndKeepalivesDecode() throws {
        let data = Bytes()
        data.byte("w").u64(0x100).u64(0x200).u64(42).raw([1, 2, 3])
        #expect(try ServerReplicationMessage.decode(data.bytes) == .data(start: LSN(0x100), walEnd: LSN(0x200), payload: [1, 2, 3]))
        let keepalive = Bytes()
        keepalive.byte("k").u64(0x300).u64(7).raw([1])
        #expect(try ServerReplicationMessage.decode(keepalive.bytes) == .keepalive(walEnd: LSN(0x300), replyRequested: true))
        #expect(throws: WireError.self) { try ServerReplicationMessage.decode([UInt8(ascii: "w"), 0, 0]) }
        #expect(throws: WireError.self) { try ServerReplicationMessage.decode([UInt8(ascii: "z")]) }
    }

    @Test func standbyStatusUpdateIsWhatTheServerExpects() {
        let bytes = StandbyStatusUpdate(flushed: LSN(0x0102_0304_0506_0708), clientTimeMicroseconds: 9).encoded()
        #expect(bytes.count == 34)
        #expect(bytes[0] == UInt8(ascii: "r"))
        #expect(Array(bytes[1...8]) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(Array(bytes[9...16]) == [1, 2, 3, 4, 5, 6, 7, 8] && Array(bytes[17...24]) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(bytes[25...32].last == 9 && bytes[33] == 0)
        let asking = StandbyStatusUpdate(flushed: LSN(1), clientTimeMicroseconds: 9, replyRequested: true).encoded()
        #expect(asking.count == 34 && asking[33] == 1)
    }

    @Test func relationAndChangesDecode() throws {
        let relation = Bytes()
        relation.byte("R").u32(16_384).string("public").string("executions_visibility").raw([UInt8(ascii: "d")]).u16(3)
        relation.raw([1]).string("namespace_id").u32(1042).u32(UInt32(bitPattern: 68))
        relation.raw([1]).string("run_id").u32(1042).u32(UInt32(bitPattern: 68))
        relation.raw([0]).string("memo").u32(17).u32(UInt32(bitPattern: -1))
        guard case .relation(let decoded) = try PgOutputMessage.decode(relation.bytes) else { Issue.record("not a relation"); return }
        #expect(decoded.id == 16_384 && decoded.name == "executions_visibility" && decoded.columns == ["namespace_id", "run_id", "memo"])
        #expect(decoded.keyColumns == ["namespace_id", "run_id"])

        let insert = Bytes()
        insert.byte("I").u32(16_384).byte("N").u16(3).byte("t").text("ns").byte("t").text("r1").byte("n")
        #expect(try PgOutputMessage.decode(insert.bytes) == .insert(relation: 16_384, new: [.text("ns"), .text("r1"), .null]))

        let update = Bytes()
        update.byte("U").u32(16_384).byte("N").u16(3).byte("t").text("ns").byte("t").text("r1").byte("u")
        #expect(try PgOutputMessage.decode(update.bytes) == .update(relation: 16_384, old: nil, new: [.text("ns"), .text("r1"), .unchangedToast]))

        let delete = Bytes()
        delete.byte("D").u32(16_384).byte("K").u16(3).byte("t").text("ns").byte("t").text("r1").byte("n")
        #expect(try PgOutputMessage.decode(delete.bytes) == .delete(relation: 16_384, old: [.text("ns"), .text("r1"), .null]))

        let begin = Bytes()
        begin.byte("B").u64(0x500).u64(12).u32(77)
        #expect(try PgOutputMessage.decode(begin.bytes) == .begin(finalLSN: LSN(0x500), commitTimeMicroseconds: 12, transaction: 77))
        let commit = Bytes()
        commit.byte("C").raw([0]).u64(0x500).u64(0x528).u64(12)
        #expect(try PgOutputMessage.decode(commit.bytes) == .commit(commitLSN: LSN(0x500), endLSN: LSN(0x528), commitTimeMicroseconds: 12))
    }

    @Test func truncatedAndForeignMessagesAreErrorsNotCrashes() {
        let insert = Bytes()
        insert.byte("I").u32(1).byte("N").u16(2).byte("t").u32(100).raw([1, 2])
        #expect(throws: WireError.self) { try PgOutputMessage.decode(insert.bytes) }
        #expect(throws: WireError.self) { try PgOutputMessage.decode([UInt8(ascii: "I"), 0, 0, 0, 1, UInt8(ascii: "X")]) }
        #expect(throws: WireError.self) { try PgOutputMessage.decode([UInt8(ascii: "Q")]) }
        #expect(throws: WireError.self) { try PgOutputMessage.decode([]) }
        // Every prefix of a valid message fails cleanly.
        let relation = Bytes()
        relation.byte("R").u32(1).string("public").string("t").raw([UInt8(ascii: "d")]).u16(1).raw([1]).string("a").u32(23).u32(0)
        for length in 0..<relation.bytes.count {
            #expect(throws: WireError.self) { try PgOutputMessage.decode(Array(relation.bytes.prefix(length))) }
        }
    }
}

/// Builds protocol messages for the tests.
final class Bytes {
    var bytes: [UInt8] = []

    @discardableResult func byte(_ character: Character) -> Bytes { bytes.append(character.asciiValue!); return self }
    @discardableResult func raw(_ values: [UInt8]) -> Bytes { bytes += values; return self }
    @discardableResult func u16(_ value: UInt16) -> Bytes { bytes += [UInt8(value >> 8), UInt8(value & 0xFF)]; return self }
    @discardableResult func u32(_ value: UInt32) -> Bytes {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
        return self
    }
    @discardableResult func u64(_ value: UInt64) -> Bytes {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        return self
    }
    @discardableResult func string(_ text: String) -> Bytes { bytes += Array(text.utf8) + [0]; return self }
    /// A tuple value's length and text.
    @discardableResult func text(_ text: String) -> Bytes { u32(UInt32(text.utf8.count)); bytes += Array(text.utf8); return self }
}
