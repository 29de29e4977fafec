@testable import PeriscopeChaos
import Testing

/// Each checker passes a correct history and fails a wrong one, naming what went wrong.
@Suite struct AcknowledgedWritesCheckerTests {
    @Test func aCompleteHistoryPasses() {
        let history = [H.write(.upsert, "a", 1, .ok), H.write(.upsert, "a", 2, .unknown), H.write(.start, "b", 5, .ok),
                       H.write(.upsert, "c", 1, .failed)]
        // a at 2 (the unknown write landed) or 1; b at 5; c absent (its only write failed).
        #expect(AcknowledgedWritesChecker.check(history, final: ["a": 2, "b": 5, "c": nil]).passed)
        #expect(AcknowledgedWritesChecker.check(history, final: ["a": 1, "b": 5]).passed)
        #expect(AcknowledgedWritesChecker.check(history, final: ["a": 1, "b": 5]).summary == "3 keys, 2 acknowledged writes")
    }

    @Test func aLostOrOlderWriteFails() {
        let history = [H.write(.upsert, "a", 1), H.write(.close, "a", 3), H.write(.upsert, "b", 5)]
        let result = AcknowledgedWritesChecker.check(history, final: ["a": 1, "b": nil])
        #expect(!result.passed)
        #expect(result.evidence.contains("lost: a acknowledged at version 3, found version 1"))
        #expect(result.evidence.contains("lost: b acknowledged at version 5, found absent"))
        #expect(AcknowledgedWritesChecker.check(history, final: ["a": 3]).evidence == ["lost: b acknowledged at version 5, found absent"],
                "a key missing from the final reads is absent")
    }

    @Test func aWriteThatFailedDefinitelyMustNotAppear() {
        let history = [H.write(.upsert, "a", 1), H.write(.upsert, "a", 2, .failed)]
        let result = AcknowledgedWritesChecker.check(history, final: ["a": 2])
        #expect(!result.passed)
        #expect(result.evidence == ["phantom: a found at version 2, written only by a write that failed definitely"])
        #expect(AcknowledgedWritesChecker.check([], final: ["x": 9]).evidence == ["phantom: x found at version 9, written only by no write of the history"])
    }

    @Test func deletesMayHideAWriteOnlyFromAbove() {
        let acknowledgedDelete = [H.write(.start, "a", 1), H.write(.delete, "a", 2)]
        #expect(AcknowledgedWritesChecker.check(acknowledgedDelete, final: ["a": nil]).passed)
        #expect(AcknowledgedWritesChecker.check(acknowledgedDelete, final: ["a": 1]).evidence
            == ["resurrected: a deleted at version 2 (acknowledged), found version 1"])
        // An unknown delete above the write may have landed; one below may not hide it.
        #expect(AcknowledgedWritesChecker.check([H.write(.upsert, "a", 3), H.write(.delete, "a", 4, .unknown)], final: ["a": nil]).passed)
        #expect(!AcknowledgedWritesChecker.check([H.write(.upsert, "a", 3), H.write(.delete, "a", 2, .unknown)], final: ["a": nil]).passed)
        #expect(!AcknowledgedWritesChecker.check([H.write(.upsert, "a", 3), H.write(.delete, "a", 4, .failed)], final: ["a": nil]).passed)
        // A write above an acknowledged delete may revive the key, if it may have landed.
        let revived = [H.write(.delete, "a", 2), H.write(.upsert, "a", 5, .unknown)]
        #expect(AcknowledgedWritesChecker.check(revived, final: ["a": 5]).passed)
    }

    @Test func aStartThatFoundSomethingSetsNoFloor() {
        let history = [H.write(.start, "a", 1, applied: true), H.write(.start, "a", 9, applied: false)]
        #expect(AcknowledgedWritesChecker.check(history, final: ["a": 1]).passed)
    }
}

@Suite struct ReadYourWritesCheckerTests {
    @Test func aReadSeesItsTokensWriteOrNewer() {
        let history = [H.write(.upsert, "a", 5), H.read("a", 5, .readYourWrites, at: 2, to: 3, required: 5),
                       H.read("a", 7, .readYourWrites, at: 4, to: 5, required: 5)]
        #expect(ReadYourWritesChecker.check(history).passed)
        let stale = ReadYourWritesChecker.check(history + [H.read("a", 4, .readYourWrites, client: 3, at: 6, to: 7, required: 5),
                                                          H.read("a", nil, .readYourWrites, client: 3, at: 8, to: 9, required: 5)])
        #expect(!stale.passed)
        #expect(stale.evidence == ["read-your-writes: read of a by client 3 at 6.0ms required version 5, found version 4",
                                   "read-your-writes: read of a by client 3 at 8.0ms required version 5, found absent"])
    }

    @Test func absentNeedsADeleteAboveInvokedBeforeTheReadEnded() {
        let read = H.read("a", nil, .readYourWrites, at: 10, to: 20, required: 5)
        #expect(ReadYourWritesChecker.check([H.write(.delete, "a", 6, .unknown, at: 15, to: nil), read]).passed)
        #expect(!ReadYourWritesChecker.check([H.write(.delete, "a", 6, at: 25, to: 26), read]).passed, "invoked after the read")
        #expect(!ReadYourWritesChecker.check([H.write(.delete, "a", 5, at: 1, to: 2), read]).passed, "not above the token")
        #expect(!ReadYourWritesChecker.check([H.write(.delete, "a", 6, .failed, at: 1, to: 2), read]).passed, "failed")
        // After the reader's own delete, its token promises absence or something newer (seed 2).
        let ownDelete = H.write(.delete, "a", 5, client: 1, at: 1, to: 2, applied: true)
        #expect(ReadYourWritesChecker.check([ownDelete, read]).passed)
        #expect(ReadYourWritesChecker.check([ownDelete, H.read("a", 9, .readYourWrites, at: 10, to: 20, required: 5)]).passed)
        #expect(!ReadYourWritesChecker.check([ownDelete, H.read("a", 4, .readYourWrites, at: 10, to: 20, required: 5)]).passed)
        // Other consistencies are not this checker's.
        #expect(ReadYourWritesChecker.check([H.read("a", 1, .eventual, at: 0, to: 1, required: 5)]).passed)
    }
}

@Suite struct PagingCheckerTests {
    static let written = [H.write(.start, "a", 1, at: 0, to: 1), H.write(.start, "b", 1, at: 0, to: 2), H.write(.start, "c", 1, at: 0, to: 3)]

    @Test func aCompleteScanPasses() {
        #expect(PagingChecker.check(Self.written + [H.scan(["a", "b", "c"], at: 10, to: 20)]).passed)
    }

    @Test func aSkippedOrRepeatedKeyFails() {
        let result = PagingChecker.check(Self.written + [H.scan(["a", "c"], at: 10, to: 20), H.scan(["a", "b", "c", "b", "b"], at: 30, to: 40)])
        #expect(!result.passed)
        #expect(result.evidence == ["scan by client 2 at 10.0ms: skipped b (existed throughout)",
                                    "scan by client 2 at 30.0ms: returned b twice"])
    }

    @Test func keysChangedDuringTheScanAreExempt() {
        let history = Self.written + [
            H.write(.delete, "a", 2, .unknown, at: 15, to: nil),  // may have vanished mid-scan
            H.write(.delete, "b", 2, .ok, at: 5, to: 6),          // deleted before the scan
            H.write(.upsert, "d", 1, at: 9, to: 11),              // written while the scan ran
            H.write(.delete, "c", 2, .failed, at: 12, to: 13),    // definitely still there
            H.scan(["c"], at: 10, to: 20),
        ]
        #expect(PagingChecker.check(history).passed)
        #expect(!PagingChecker.check(history.dropLast() + [H.scan([], at: 10, to: 20)]).passed, "c was there throughout")
    }

    @Test func aScanThatLostItsPointInTimeIsCountedNotJudged() {
        let result = PagingChecker.check(Self.written + [H.scan(["a", "a"], at: 10, to: 20, pointInTimeLost: true),
                                                         H.scan(["a", "b", "c"], at: 30, to: 40)])
        #expect(result.passed)
        #expect(result.summary == "1 scans judged; 1 scans lost their point in time (not judged)")
    }
}

@Suite struct ConvergenceCheckerTests {
    static func sample(_ node: Int, _ shard: UInt32, index: UInt64 = 10, sha: String = "ab12") -> ReplicaDigestSample {
        ReplicaDigestSample(node: node, shard: shard, appliedIndex: index, sha256: sha, entries: 3)
    }

    static let converged = (0..<3).flatMap { node in (0..<2).map { sample(node, UInt32($0)) } }

    @Test func identicalReplicasPass() {
        #expect(ConvergenceChecker.check(Self.converged).passed)
        #expect(ConvergenceChecker.check(Self.converged, nodes: [0, 1, 2]).summary == "2 shards on 3 nodes")
    }

    @Test func anyDifferenceFails() {
        var index = Self.converged
        index[3] = Self.sample(1, 1, index: 9)
        let result = ConvergenceChecker.check(index)
        #expect(result.evidence == ["shard 1 differs: node 0 index 10 sha ab12 (3 entries), node 1 index 9 sha ab12 (3 entries), "
            + "node 2 index 10 sha ab12 (3 entries)"])
        var sha = Self.converged
        sha[0] = Self.sample(0, 0, sha: "ff00")
        #expect(!ConvergenceChecker.check(sha).passed)
        let missing = ConvergenceChecker.check(Array(Self.converged.dropLast()))
        #expect(missing.evidence.count == 1 && missing.evidence[0].hasSuffix("node 2 missing"))
        #expect(!ConvergenceChecker.check(Self.converged, nodes: [0, 1, 2, 3]).passed, "a node that reported nothing")
        #expect(!ConvergenceChecker.check([]).passed, "no digests is no evidence of convergence")
    }
}

@Suite struct AvailabilityCheckerTests {
    @Test func recoveryIsTheFirstWriteInvokedAfterTheHeal() {
        let history = [H.write(.upsert, "a", 1, at: 9_000, to: 10_100),   // invoked before the heal: not counted
                       H.write(.upsert, "b", 1, .failed, at: 10_050, to: 10_200),
                       H.write(.upsert, "c", 1, at: 10_500, to: 11_000),
                       H.read("c", 1, at: 10_100, to: 10_150)]
        let (result, seconds) = AvailabilityChecker.check(history, healedAtNanoseconds: H.ns(10_000), boundSeconds: 5)
        #expect(result.passed && seconds == 1.0)
        #expect(result.summary == "first write acknowledged 1.000s after the heal (bound 5.000s)")
        let (late, _) = AvailabilityChecker.check(history, healedAtNanoseconds: H.ns(10_000), boundSeconds: 0.5)
        #expect(!late.passed)
        let (none, noSeconds) = AvailabilityChecker.check(Array(history.prefix(2)), healedAtNanoseconds: H.ns(10_000), boundSeconds: 5)
        #expect(!none.passed && noSeconds == nil)
    }
}

@Suite struct FinalCountsCheckerTests {
    typealias Count = FinalCountsChecker.NodeCount
    /// a: closed at 3; b: running at 4; c: deleted; d: version 5 is both a close and a stale upsert.
    let history = [
        H.write(.start, "a", 1), H.write(.close, "a", 3), H.write(.upsert, "b", 4, .unknown), H.write(.start, "c", 2),
        H.write(.delete, "c", 6), H.write(.close, "d", 5), H.write(.upsert, "d", 5), H.write(.upsert, "e", 7, .failed),
    ]
    let final: [String: Int64?] = ["a": 3, "b": 4, "c": Int64?.none, "d": 5]

    @Test func countsThatMatchTheFinalReadsPass() {
        for completed: Int64 in [1, 2] {  // d either way
            let counts = [Count(node: "n1", total: 3, byStatus: ["Running": 3 - completed, "Completed": completed])]
            let result = FinalCountsChecker.check(history, final: final, counts: counts)
            #expect(result.passed, "\(result.evidence)")
        }
    }

    @Test func aMissedDoubledOrStaleCountFails() {
        let cases: [(Count, String)] = [
            (Count(node: "n1", total: 2, byStatus: ["Running": 1, "Completed": 1]), "n1 counted 2 executions; the final reads found 3"),
            (Count(node: "n2", total: 4, byStatus: ["Running": 2, "Completed": 2]), "n2 counted 4 executions"),
            // b counted closed: a status no final version had.
            (Count(node: "n3", total: 3, byStatus: ["Running": 0, "Completed": 3]), "n3 counted 0 Running; the final reads imply 1 to 2"),
            (Count(node: "n4", total: 3, byStatus: ["Running": 2, "Completed": 1, "Terminated": 1]), "statuses no write set"),
        ]
        for (count, says) in cases {
            let result = FinalCountsChecker.check(history, final: final, counts: [count])
            #expect(!result.passed && result.evidence.contains { $0.contains(says) }, "\(count): \(result.evidence)")
        }
        #expect(!FinalCountsChecker.check(history, final: final, counts: []).passed, "no count at all")
        // A final version no write produced (a failed write's) is named.
        let phantom = FinalCountsChecker.check(history, final: ["e": 7], counts: [Count(node: "n1", total: 1, byStatus: ["Running": 1])])
        #expect(phantom.evidence.contains { $0.contains("key e read at version 7, which no write produced") }, "\(phantom.evidence)")
    }
}
