import PeriscopeRaft
@testable import PeriscopeChaos
import Testing

/// The register model's rules, real-time order, unknown and failed writes, the search's
/// bound, and speed on a run-sized history.
@Suite struct LinearizabilityCheckerTests {
    @Test func aStaleStrongReadAfterANewerWriteCompletedFails() {
        let history = [H.write(.start, "k", 1, at: 0, to: 10, applied: true), H.write(.upsert, "k", 2, at: 20, to: 30, applied: true),
                       H.read("k", 1, at: 40, to: 50)]
        let result = LinearizabilityChecker.check(history)
        #expect(!result.passed)
        #expect(result.evidence.count == 1)
        let evidence = result.evidence[0]
        #expect(evidence.hasPrefix("not linearizable: key k (3 operations): strong read by client 1 [40.0ms–50.0ms] returned version 1 cannot be placed"))
        #expect(evidence.contains("the store holds live at version 2"), "\(evidence)")
        #expect(evidence.contains("upsert v2 by client 0 [20.0ms–30.0ms] ok (applied)"), "\(evidence)")
        // The same read from an eventual or read-your-writes read is not this checker's business.
        #expect(LinearizabilityChecker.check(Array(history.prefix(2)) + [H.read("k", 1, .eventual, at: 40, to: 50)]).passed)
    }

    @Test func aReadConcurrentWithAWriteMaySeeEitherSide() {
        let writes = [H.write(.upsert, "k", 1, at: 0, to: 10, applied: true), H.write(.upsert, "k", 2, at: 20, to: 40, applied: true)]
        #expect(LinearizabilityChecker.check(writes + [H.read("k", 1, at: 25, to: 35)]).passed)
        #expect(LinearizabilityChecker.check(writes + [H.read("k", 2, at: 25, to: 35)]).passed)
        // But once one reader saw the new version, a later one cannot see the old.
        #expect(!LinearizabilityChecker.check(writes + [H.read("k", 2, at: 25, to: 30), H.read("k", 1, client: 2, at: 31, to: 35)]).passed)
        // A read before anything was written sees nothing.
        #expect(LinearizabilityChecker.check(writes + [H.read("k", nil, at: -5, to: 1)]).passed)
        #expect(!LinearizabilityChecker.check(writes + [H.read("k", nil, at: 11, to: 12)]).passed)
    }

    @Test func anUnknownWriteMayLandLateOrNever() {
        let history = [H.write(.upsert, "k", 1, at: 0, to: 10, applied: true), H.write(.upsert, "k", 2, .unknown, at: 20, to: nil)]
        #expect(LinearizabilityChecker.check(history + [H.read("k", 2, at: 100, to: 110)]).passed, "landed late")
        #expect(LinearizabilityChecker.check(history + [H.read("k", 1, at: 100, to: 110)]).passed, "never landed (yet)")
        #expect(LinearizabilityChecker.check(history + [H.read("k", 1, at: 100, to: 110), H.read("k", 2, at: 200, to: 210)]).passed)
        #expect(!LinearizabilityChecker.check(history + [H.read("k", 2, at: 100, to: 110), H.read("k", 1, at: 200, to: 210)]).passed,
                "a landed write is not undone")
        #expect(!LinearizabilityChecker.check(history + [H.read("k", 2, at: 5, to: 15)]).passed, "not before its invocation")
    }

    @Test func aFailedWriteIsNeverSeen() {
        let history = [H.write(.upsert, "k", 1, at: 0, to: 10, applied: true), H.write(.upsert, "k", 2, .failed, at: 20, to: 30),
                       H.read("k", 2, at: 40, to: 50)]
        let result = LinearizabilityChecker.check(history)
        #expect(!result.passed)
        #expect(result.evidence.first?.contains("returned version 2 cannot be placed") == true)
    }

    @Test func theAppliedAnswerMustMatchTheModel() {
        // A start applies only on an empty key, a tombstone included; the others only above.
        let starts = [H.write(.start, "k", 1, at: 0, to: 10, applied: true), H.write(.start, "k", 2, at: 20, to: 30, applied: true)]
        #expect(!LinearizabilityChecker.check(starts).passed)
        #expect(LinearizabilityChecker.check([starts[0], H.write(.start, "k", 2, at: 20, to: 30, applied: false)]).passed)
        // "Not applied" does not bind: the client's retry of a write whose first attempt
        // landed says so (seed 2 of the first chaos runs).
        #expect(LinearizabilityChecker.check([H.write(.upsert, "k", 1, at: 0, to: 10, applied: false),
                                              H.read("k", 1, at: 20, to: 30)]).passed)
        #expect(!LinearizabilityChecker.check([H.write(.upsert, "k", 1, at: 0, to: 10, applied: true),
                                               H.write(.upsert, "k", 1, at: 20, to: 30, applied: true)]).passed, "applied twice")
        let deleted = [H.write(.upsert, "k", 3, at: 0, to: 10, applied: true), H.write(.delete, "k", 4, at: 20, to: 30, applied: true)]
        #expect(LinearizabilityChecker.check(deleted + [H.read("k", nil, at: 40, to: 50),
                                                        H.write(.start, "k", 9, at: 60, to: 70, applied: false),
                                                        H.write(.close, "k", 4, at: 80, to: 90, applied: false),
                                                        H.write(.close, "k", 5, at: 100, to: 110, applied: true),
                                                        H.read("k", 5, at: 120, to: 130)]).passed)
        #expect(!LinearizabilityChecker.check(deleted + [H.write(.close, "k", 4, at: 80, to: 90, applied: true)]).passed)
        #expect(LinearizabilityChecker.check([H.write(.upsert, "k", 1, at: 0, to: 10)]).passed, "no answer: unconstrained")
    }

    @Test func aRunSizedRandomValidHistoryPassesQuickly() {
        let history = RandomRegisterHistory.make(seed: 42, keys: 100, operationsPerKey: 150)
        let clock = ContinuousClock()
        var result: CheckResult?
        let elapsed = clock.measure { result = LinearizabilityChecker.check(history) }
        #expect(result?.passed == true, "\(result?.evidence ?? [])")
        #expect(elapsed < .seconds(20), "took \(elapsed)")
    }

    @Test func randomHistoriesWithOneCorruptedReadFail() {
        for seed in UInt64(1)...5 {
            var history = RandomRegisterHistory.make(seed: seed, keys: 5, operationsPerKey: 60)
            #expect(LinearizabilityChecker.check(history).passed, "seed \(seed)")
            let index = history.lastIndex { $0.kind == .read && $0.consistency == .strong && $0.outcome == .ok }!
            history[index].version = 1_000_000
            let result = LinearizabilityChecker.check(history)
            #expect(!result.passed && result.evidence.first?.contains("key \(history[index].key) ") == true, "seed \(seed)")
        }
    }

    @Test func exceedingTheBoundIsInconclusiveAndFails() {
        // Twenty unknown writes, any subset of which may have landed, and a read no subset explains.
        let history = (0..<20).map { H.write(.upsert, "k", Int64($0 + 1), .unknown, client: $0, at: Double($0), to: nil) }
            + [H.read("k", 999, at: 100, to: 110)]
        let result = LinearizabilityChecker.check(history, maxStatesPerKey: 1_000)
        #expect(!result.passed)
        #expect(result.evidence.first?.hasPrefix("inconclusive: key k, 21 operations, search bound exceeded") == true, "\(result.evidence)")
        #expect(result.summary.hasSuffix("1 keys inconclusive"))
    }
}

/// Histories a correct store could give: each key's clients issue overlapping operations, each
/// takes effect at a random instant inside its window (an unknown write possibly later, or
/// never; a failed one never), and answers come from a sequential store applied in that order.
enum RandomRegisterHistory {
    static func make(seed: UInt64, keys: Int, operationsPerKey: Int, clientsPerKey: Int = 4) -> [HistoryOperation] {
        var random = SeededRandom(seed: seed)
        return (0..<keys).flatMap { key in
            self.key("key-\(key)", operations: operationsPerKey, clients: clientsPerKey, random: &random)
        }
    }

    private static func key(_ key: String, operations count: Int, clients: Int, random: inout SeededRandom) -> [HistoryOperation] {
        var pending: [(operation: HistoryOperation, effect: Int64?)] = []
        var clock = [Int64](repeating: 0, count: clients)
        var nextVersion: Int64 = 1
        for index in 0..<count {
            let client = index % clients
            let invoked = clock[client] + Int64.random(in: 0...3_000_000, using: &random)
            let completed = invoked + Int64.random(in: 100_000...20_000_000, using: &random)
            clock[client] = completed
            var operation: HistoryOperation
            if Int.random(in: 0..<10, using: &random) < 4 {
                operation = H.read(key, nil, client: client, at: 0, to: 0)
                if Int.random(in: 0..<10, using: &random) == 0 { operation.consistency = .eventual; operation.version = -1 }
            } else {
                let kind: HistoryOperation.Kind = [.start, .upsert, .upsert, .close, .delete][Int.random(in: 0..<5, using: &random)]
                // Mostly newer versions, sometimes a stale one that the store must refuse.
                let version = Int.random(in: 0..<5, using: &random) == 0 ? max(1, nextVersion - Int64.random(in: 1...3, using: &random)) : nextVersion
                nextVersion += 1
                operation = H.write(kind, key, version, client: client)
            }
            operation.invokedNanoseconds = invoked
            operation.completedNanoseconds = completed
            var effect: Int64? = Int64.random(in: invoked...completed, using: &random)
            if operation.kind.isWrite {
                switch Int.random(in: 0..<20, using: &random) {
                case 0:
                    operation.outcome = .failed
                    effect = nil
                case 1:
                    operation.outcome = .unknown
                    operation.completedNanoseconds = nil
                    effect = Bool.random(using: &random) ? Int64.random(in: invoked...(completed + 50_000_000), using: &random) : nil
                default:
                    break
                }
            }
            pending.append((operation, effect))
        }
        var state: StoredVersion?
        for index in pending.indices.filter({ pending[$0].effect != nil }).sorted(by: { pending[$0].effect! < pending[$1].effect! }) {
            let operation = pending[index].operation
            if operation.kind.isWrite {
                let (after, applied) = StoreModel.apply(operation.kind, version: operation.version!, to: state)
                state = after
                if operation.outcome == .ok { pending[index].operation.applied = applied }
            } else if operation.consistency == .strong {
                pending[index].operation.version = StoreModel.read(state)
            }
        }
        return pending.map(\.operation)
    }
}
