import Testing
@testable import PeriscopeMigration

/// Committed transactions out of a pgoutput stream, and COPY's text format.
@Suite struct ChangeDecoderTests {
    static let relation: [UInt8] = {
        let message = Bytes()
        message.byte("R").u32(7).string("public").string("executions_visibility").raw([UInt8(ascii: "d")]).u16(3)
        message.raw([1]).string("namespace_id").u32(1042).u32(68)
        message.raw([1]).string("run_id").u32(1042).u32(68)
        message.raw([0]).string("memo").u32(17).u32(UInt32(bitPattern: -1))
        return message.bytes
    }()

    static func begin() -> [UInt8] { Bytes().byte("B").u64(0x900).u64(1).u32(5).bytes }
    static func commit(end: UInt64) -> [UInt8] { Bytes().byte("C").raw([0]).u64(0x900).u64(end).u64(1).bytes }
    static func insert(_ run: String, memo: String?) -> [UInt8] {
        let message = Bytes().byte("I").u32(7).byte("N").u16(3).byte("t").text("ns  ").byte("t").text(run + "   ")
        if let memo { message.byte("t").text(memo) } else { message.byte("n") }
        return message.bytes
    }

    @Test func changesAreHeldUntilTheirCommitAndKeepTheirPositions() throws {
        var decoder = ChangeDecoder()
        #expect(try decoder.decode(Self.relation, at: LSN(0x100)) == nil)
        #expect(try decoder.decode(Self.begin(), at: LSN(0x100)) == nil)
        #expect(try decoder.decode(Self.insert("r1", memo: "\\x0a"), at: LSN(0x110)) == nil)
        let toast = Bytes().byte("U").u32(7).byte("N").u16(3).byte("t").text("ns").byte("t").text("r2").byte("u").bytes
        #expect(try decoder.decode(toast, at: LSN(0x120)) == nil)
        let delete = Bytes().byte("D").u32(7).byte("K").u16(3).byte("t").text("ns").byte("t").text("r3").byte("n").bytes
        #expect(try decoder.decode(delete, at: LSN(0x130)) == nil)
        let transaction = try #require(try decoder.decode(Self.commit(end: 0x958), at: LSN(0x940)))
        #expect(transaction.commitEnd == LSN(0x958))
        #expect(transaction.changes == [
            CapturedChange(kind: .upsert(["namespace_id": "ns  ", "run_id": "r1   ", "memo": "\\x0a"]), position: LSN(0x110)),
            CapturedChange(kind: .refetch(namespaceId: "ns", runId: "r2"), position: LSN(0x120)),
            CapturedChange(kind: .delete(namespaceId: "ns", runId: "r3"), position: LSN(0x130)),
        ])
    }

    @Test func aStreamItCannotFollowIsAnErrorThatSaysWhy() throws {
        var unknown = ChangeDecoder()
        _ = try unknown.decode(Self.begin(), at: LSN(1))
        #expect(throws: CaptureError.self) { try unknown.decode(Self.insert("r", memo: nil), at: LSN(2)) }

        var other = ChangeDecoder()
        let relation = Bytes().byte("R").u32(8).string("public").string("accounts").raw([UInt8(ascii: "d")]).u16(0).bytes
        _ = try other.decode(relation, at: LSN(1))
        _ = try other.decode(Self.begin(), at: LSN(1))
        #expect(throws: CaptureError.self) { try other.decode(Bytes().byte("I").u32(8).byte("N").u16(0).bytes, at: LSN(2)) }

        var truncated = ChangeDecoder()
        #expect(throws: CaptureError.self) { try truncated.decode(Bytes().byte("T").u32(1).raw([0]).u32(7).bytes, at: LSN(3)) }

        var bounded = ChangeDecoder(transactionChangesMax: 2)
        _ = try bounded.decode(Self.relation, at: LSN(1))
        _ = try bounded.decode(Self.begin(), at: LSN(1))
        _ = try bounded.decode(Self.insert("a", memo: nil), at: LSN(2))
        _ = try bounded.decode(Self.insert("b", memo: nil), at: LSN(3))
        #expect(throws: CaptureError.self) { try bounded.decode(Self.insert("c", memo: nil), at: LSN(4)) }

        var loose = ChangeDecoder()
        _ = try loose.decode(Self.relation, at: LSN(1))
        #expect(throws: CaptureError.self) { try loose.decode(Self.insert("a", memo: nil), at: LSN(2)) }
        #expect(throws: CaptureError.self) { try loose.decode(Self.commit(end: 9), at: LSN(3)) }
    }

    @Test func copyTextLinesSplitAndUnescape() throws {
        let line = Array("ns\\\\x\t\\N\t\\\\x0a01\tone\\ttab\\nline\t\t\\101\\x41".utf8)
        #expect(try CopyText.values(of: line) == ["ns\\x", nil, "\\x0a01", "one\ttab\nline", "", "AA"])
        #expect(try CopyText.values(of: Array("\\N".utf8)) == [nil])
        #expect(try CopyText.values(of: Array("a\\Nb".utf8)) == ["aNb"], "\\N inside a value is not NULL")
        #expect(throws: CopyTextError.self) { try CopyText.values(of: Array("a\\".utf8)) }
    }
}
