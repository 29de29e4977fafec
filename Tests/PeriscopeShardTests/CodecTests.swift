import PeriscopeModel
import PeriscopeTestSupport
import Testing
@testable import PeriscopeShard

@Suite struct CodecTests {
    @Test func everyFieldAndAttributeTypeRoundTrips() throws {
        var full = record("wf", version: 42, status: .failed, start: time(day: -30_000), close: time(day: 1), attributes: [
            "K": .keyword("a\u{0}b"), "L": .keywordList(["x", "", "ü"]), "T": .text("Hello world"), "I": .int(.min),
            "D": .double(-0.0), "B": .bool(true), "Dt": .datetime(.min),
        ])
        full.parentWorkflowId = "parent"
        full.parentRunId = ""
        full.stateTransitionCount = .max
        full.historySizeBytes = 0
        #expect(try RecordCodec.decode(RecordCodec.encode(full)) == full)
        let bare = record("w")
        #expect(try RecordCodec.decode(RecordCodec.encode(bare)) == bare)
    }

    @Test func equalRecordsEncodeToEqualBytes() {
        let attributes: [String: SearchAttributeValue] = (0..<20).reduce(into: [:]) { $0["A\($1)"] = .int(Int64($1)) }
        let one = record("wf", attributes: attributes)
        let other = record("wf", attributes: Dictionary(uniqueKeysWithValues: attributes.reversed()))
        #expect(RecordCodec.encode(one) == RecordCodec.encode(other))
    }

    @Test func commandsRoundTrip() throws {
        let commands: [ShardCommand] = [
            .start(record("a")), .upsert(record("b", version: 3)), .close(record("c", status: .completed, close: time(day: 2))),
            .delete(ExecutionKey(namespaceId: "n", workflowId: "w", runId: "r"), version: 9, at: time(day: 3)),
            .expire(namespaceId: "n", closedBefore: time(day: -1)),
            .batch([.start(record("d")), .delete(ExecutionKey(namespaceId: "n", workflowId: "d", runId: "r1"), version: 2, at: .epoch)]),
            .replicable(originTime: time(day: 4), [.start(failedOver(record("e"), 2)),
                                                   .delete(ExecutionKey(namespaceId: "n", workflowId: "w", runId: "r"), version: 9,
                                                           at: time(day: 3), failoverVersion: 101)]),
            .replicated(ReplicatedBatch(origin: 3, through: 77, commands: [.upsert(failedOver(record("f"), 2))], backfilled: ["n": 3, "m": 1])),
            .replicated(ReplicatedBatch(origin: 1, through: 0, commands: [])),
            .fence(namespaceId: "n", throughFailoverVersion: 101), .fence(namespaceId: "n", throughFailoverVersion: nil),
            .trimOutbox(through: 12_345),
        ]
        for command in commands { #expect(try ShardCommand.decode(command.encoded()) == command) }
        let stamped = failedOver(record("g", version: 7), -5)
        #expect(try RecordCodec.decode(RecordCodec.encode(stamped)) == stamped)
        // A record and a delete of failover version 0 keep the bytes they had before failover versions existed.
        #expect(RecordCodec.encode(record("h"))[0] == RecordCodec.formatV1)
        #expect(ShardCommand.delete(ExecutionKey(namespaceId: "n", workflowId: "w", runId: "r"), version: 1, at: .epoch).encoded()[1] == 4)
    }

    @Test func envelopesHoldOnlyWhatTheyMayHold() throws {
        // A replicated batch may carry only writes of one execution: retention is each region's own.
        let expire = ShardCommand.replicated(ReplicatedBatch(origin: 1, through: 2, commands: [.expire(namespaceId: "n", closedBefore: .epoch)]))
        #expect(throws: DecodingError.self) { try ShardCommand.decode(expire.encoded()) }
        let nested = ShardCommand.replicable(originTime: .epoch, [.batch([.start(record("a"))])])
        #expect(throws: DecodingError.self) { try ShardCommand.decode(nested.encoded()) }
    }

    @Test func malformedBytesAreErrorsNeverCrashes() throws {
        var random = SeededRandom(seed: 7)
        let valid = ShardCommand.batch([.start(record("a", attributes: ["L": .keywordList(["x", "y"])])),
                                        .close(record("b", close: time(day: 1)))]).encoded()
        #expect(throws: DecodingError.self) { try ShardCommand.decode([]) }
        #expect(throws: DecodingError.self) { try ShardCommand.decode([9, 1]) }
        #expect(throws: DecodingError.self) { try ShardCommand.decode(valid + [0]) }
        // A batch nested in a batch is refused.
        #expect(throws: DecodingError.self) { try ShardCommand.decode([1, 6, 1, 6, 0]) }
        var failures = 0
        for _ in 0..<20_000 {
            var bytes = valid
            switch random.next() % 3 {
            case 0: bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count))))
            case 1: bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
            default: bytes = (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            }
            do { _ = try ShardCommand.decode(bytes) } catch { failures += 1 }
        }
        #expect(failures > 10_000)  // most damage is detected; none crashes
    }

    @Test func partitionsBucketByFloorDivision() {
        let scheme = PartitionScheme.day
        #expect(scheme.bucket(of: Timestamp(nanosecondsSinceEpoch: 0)) == 0)
        #expect(scheme.bucket(of: Timestamp(nanosecondsSinceEpoch: -1)) == -1)
        #expect(scheme.bucket(of: Timestamp(nanosecondsSinceEpoch: day)) == 1)
        #expect(scheme.bucket(of: .min) < scheme.bucket(of: .max))
        #expect(scheme.lastBucket(endingAtOrBefore: Timestamp(nanosecondsSinceEpoch: day)) == 0)
        #expect(scheme.lastBucket(endingAtOrBefore: Timestamp(nanosecondsSinceEpoch: day + 1)) == 0)
        #expect(scheme.partition(of: record("a")) == .open)
        #expect(scheme.partition(of: record("a", close: Timestamp(nanosecondsSinceEpoch: 3 * day - 1))) == .closed(bucket: 2))
    }
}
