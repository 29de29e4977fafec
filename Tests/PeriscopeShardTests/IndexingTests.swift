import PeriscopeModel
import PeriscopeStorage
import PeriscopeTestSupport
import Testing
@testable import PeriscopeShard

@Suite struct IndexingTests {
    /// The indexes at every watermark equal the index keys of the model's records as of that
    /// watermark, however the indexer's batches fall relative to apply.
    @Test(arguments: [1, 2, 3, 4, 5, 6])
    func indexesMatchTheModelAtEveryWatermark(seed: UInt64) throws {
        let store = try TemporaryShard(configuration: Shard.Configuration(partitionScheme: .day, indexBatchEntriesMax: Int(seed % 4) + 1))
        let shard = store.shard
        var generator = WorkloadGenerator(seed: seed)
        var model = ModelStore(scheme: .day)
        var modelAt: [UInt64: ModelStore] = [0: model]
        for round in 0..<60 {
            let commands = (0..<Int(generator.random.next() % 6)).map { _ in generator.entry() }
            for command in commands {
                try shard.apply([command])
                model.apply(command)
                modelAt[shard.appliedIndex] = model
            }
            if round % 15 == 14 {
                let expire = ShardCommand.expire(namespaceId: "ns-a", closedBefore: time(day: Int64(round / 15)))
                try shard.apply([expire])
                model.apply(expire)
                modelAt[shard.appliedIndex] = model
            }
            // Sometimes index a little, sometimes not at all, sometimes catch up.
            for _ in 0..<Int(generator.random.next() % 3) {
                let progress = try shard.indexPending()
                // Retention applied after the watermark may already have removed entries
                // (the indexer reads records at a later snapshot): compare the rest exactly.
                let expected = modelAt[progress.watermark]!, later = modelAt[progress.appliedIndex]!
                for index in ShardIndex.allCases {
                    let found = try store.indexKeys(index).filter { !later.isExpired(indexKey: $0) }
                    let wanted = expected.expectedKeys(index).filter { !later.isExpired(indexKey: $0) }
                    let missing = wanted.subtracting(found).map(Shard.describeKey)
                    let unexpected = found.subtracting(wanted).map(Shard.describeKey)
                    #expect(found == wanted, "seed \(seed) round \(round) \(index) at \(progress.watermark): missing \(missing), unexpected \(unexpected)")
                }
                let report = try shard.verify()
                #expect(report.isConsistent, "\(report)")
            }
            // Sweeping expired locators, a few at a time, between anything else: it must
            // change no answer.
            if generator.random.next() % 3 == 0 { try shard.sweepExpiredLocators(chunk: 3) }
        }
        try shard.indexUntilCaughtUp()
        #expect(try shard.indexLag() == 0)
        for index in ShardIndex.allCases { #expect(try store.indexKeys(index) == model.expectedKeys(index)) }
        // Live records equal the model's.
        for record in model.liveRecords { #expect(try shard.execution(record.key) == record) }
        // Once indexed and swept through a whole pass, the locator holds exactly the
        // executions (live or tombstone) retention has not dropped.
        while try !shard.sweepExpiredLocators(chunk: 5).finishedPass {}
        while try !shard.sweepExpiredLocators(chunk: 5).finishedPass {}
        let locators = try shard.database.scan(in: shard.family(.locator)) { entries in
            try Set(entries.map { try Shard.executionKey(fromLocator: Array($0.key)) })
        }
        #expect(locators == Set(model.states.keys.filter { model.current($0) != nil }), "seed \(seed)")
        // Every change record was consumed.
        #expect(try shard.database.scan(in: shard.family(.changes)) { $0.reduce(0) { n, _ in n + 1 } } == 0)
    }

    @Test func indexingNeverBlocksApplyAndReportsLag() throws {
        let store = try TemporaryShard(configuration: Shard.Configuration(indexBatchEntriesMax: 10))
        let shard = store.shard
        try shard.apply((0..<100).map { ShardCommand.start(record("wf-\($0)")) })
        #expect(try shard.indexLag() == 100)
        let progress = try shard.indexPending()
        #expect(progress.watermark == 10 && progress.entriesIndexed == 10 && progress.executionsIndexed == 10)
        #expect(try shard.indexLag() == 90)
        #expect(try shard.watermarks() == [.time: 10, .terms: 10, .values: 10])
        try shard.indexUntilCaughtUp()
        #expect(try shard.indexLag() == 0)
    }

    @Test func indexingResumesFromTheWatermarkAfterReopen() throws {
        let store = try TemporaryShard(configuration: Shard.Configuration(indexBatchEntriesMax: 7))
        try store.shard.apply((0..<30).map { ShardCommand.start(record("wf-\($0)", attributes: ["CustomIntField": .int(Int64($0))])) })
        try store.shard.indexPending()
        try store.reopen()
        #expect(try store.shard.watermarks()[.values] == 7)
        try store.shard.apply([.close(record("wf-3", version: 2, status: .completed, close: time(day: 1)))])
        try store.shard.indexUntilCaughtUp()
        let report = try store.shard.verify()
        #expect(report.isConsistent && report.watermark == 31, "\(report)")
        #expect(report.entriesFound[.time] == 30)
    }

    @Test func retentionDropsWholePartitionsFromRecordsAndEveryIndex() throws {
        let store = try TemporaryShard()
        let shard = store.shard
        var commands: [ShardCommand] = []
        for index in 0..<20 {
            let start = time(day: Int64(index % 10))
            commands.append(.start(record("wf-\(index)", start: start, attributes: ["CustomKeywordField": .keyword("k")])))
            if index % 2 == 0 {
                commands.append(.close(record("wf-\(index)", version: 2, status: .completed, start: start,
                                              close: time(day: Int64(index % 10), hour: 1), attributes: ["CustomIntField": .int(1)])))
            }
        }
        commands.append(.start(record("other-ns", namespace: "ns-2", start: time(day: 0))))
        commands.append(.close(record("other-ns", namespace: "ns-2", version: 2, status: .completed, start: time(day: 0),
                                      close: time(day: 0, hour: 1))))
        try shard.apply(commands)
        try shard.indexUntilCaughtUp()
        // Closed on days 0...4 expire; days 5...9 and every open execution stay.
        #expect(try shard.apply([.expire(namespaceId: "ns", closedBefore: time(day: 5))]) == [.applied])
        #expect(try shard.apply([.expire(namespaceId: "ns", closedBefore: time(day: 4))]) == [.ignored(.alreadyExpired(throughBucket: epochDay + 4))])
        for index in 0..<20 {
            let key = ExecutionKey(namespaceId: "ns", workflowId: "wf-\(index)", runId: "r1")
            let expired = index % 2 == 0 && index % 10 < 5
            #expect((try shard.execution(key) == nil) == expired, "wf-\(index)")
        }
        #expect(try shard.execution(ExecutionKey(namespaceId: "ns-2", workflowId: "other-ns", runId: "r1")) != nil)
        try shard.indexUntilCaughtUp()
        let report = try shard.verify()
        #expect(report.isConsistent, "\(report)")
        #expect(report.entriesFound[.time] == 21 - 6)  // wf-0, 2, 4, 10, 12 and 14 expired
        // No index key of the namespace names an expired partition.
        for index in ShardIndex.allCases {
            for key in try store.indexKeys(index) {
                let elements = try KeyDecoder.decode(key).map(\.0)
                guard elements[0] == .string("ns"), case .closed(let bucket)? = Partition(elements[1]) else { continue }
                #expect(bucket > epochDay + 4, "\(Shard.describeKey(key))")
            }
        }
        // The horizon survives a reopen: an expired execution stays gone.
        try store.reopen()
        #expect(try store.shard.execution(ExecutionKey(namespaceId: "ns", workflowId: "wf-0", runId: "r1")) == nil)

        // The locator keeps the expired executions' entries until a sweep removes them.
        func locatorCount() throws -> Int { try store.shard.database.scan(in: store.shard.family(.locator)) { $0.reduce(0) { n, _ in n + 1 } } }
        #expect(try locatorCount() == 21)
        let sweep = try store.shard.sweepExpiredLocators(chunk: 4)
        #expect(sweep == SweepProgress(locatorsRead: 4, locatorsDeleted: sweep.locatorsDeleted, finishedPass: false))
        while try !store.shard.sweepExpiredLocators(chunk: 4).finishedPass {}
        #expect(try locatorCount() == 21 - 6)
        // Nothing has expired since that clean pass: a step reads nothing.
        #expect(try store.shard.sweepExpiredLocators(chunk: 4) == SweepProgress(locatorsRead: 0, locatorsDeleted: 0, finishedPass: true))
        // A late close into a dropped day writes an entry expired already: the next pass
        // comes back for it (once the indexer has passed it).
        try store.shard.apply([.close(record("late", version: 2, status: .completed, start: time(day: 1), close: time(day: 1, hour: 1)))])
        #expect(try locatorCount() == 21 - 6 + 1)
        try store.shard.indexUntilCaughtUp()
        while try !store.shard.sweepExpiredLocators(chunk: 4).finishedPass {}
        #expect(try locatorCount() == 21 - 6)
        #expect(try store.shard.sweepExpiredLocators(chunk: 4).locatorsRead == 0)
        // A late start of an expired execution is a new execution, as it was before the sweep.
        try store.shard.apply([.start(record("wf-0", start: time(day: 0)))])
        #expect(try store.shard.execution(ExecutionKey(namespaceId: "ns", workflowId: "wf-0", runId: "r1")) != nil)
        try store.shard.indexUntilCaughtUp()
        let after = try store.shard.verify()
        #expect(after.isConsistent && after.entriesFound[.time] == 21 - 6 + 1, "\(after)")
    }

    /// The sweep keeps an expired locator entry whose last change the indexer has not
    /// reached: the indexer may still need it to walk back to an earlier, unexpired state.
    @Test func sweepKeepsLocatorsTheIndexerStillNeeds() throws {
        let store = try TemporaryShard(configuration: Shard.Configuration(indexBatchEntriesMax: 1))
        let shard = store.shard
        try shard.apply([.start(record("wf", start: time(day: 0)))])
        try shard.indexUntilCaughtUp()
        // Upserted while running (entry 2), then closed late into day 0 (3), which retention
        // has already dropped by entry 4: as of entry 2 it is a running execution.
        try shard.apply([.upsert(record("wf", version: 2, start: time(day: 0), attributes: ["CustomIntField": .int(2)])),
                         .close(record("wf", version: 3, status: .completed, start: time(day: 0), close: time(day: 0, hour: 2))),
                         .expire(namespaceId: "ns", closedBefore: time(day: 1))])
        while try !shard.sweepExpiredLocators(chunk: 1).finishedPass {}
        #expect(try shard.indexPending().watermark == 2)
        let atTwo = try shard.verify()
        #expect(atTwo.isConsistent && atTwo.entriesFound[.time] == 1, "\(atTwo)")
        try shard.indexUntilCaughtUp()
        while try !shard.sweepExpiredLocators(chunk: 1).finishedPass {}
        let end = try shard.verify()
        #expect(end.isConsistent && end.executionsChecked == 0 && end.entriesFound[.time] == 0, "\(end)")
    }

    @Test func verifyNamesMissingAndUnexpectedKeys() throws {
        let store = try TemporaryShard()
        let shard = store.shard
        try shard.apply([.start(record("wf", attributes: ["CustomKeywordField": .keyword("x")]))])
        try shard.indexUntilCaughtUp()
        let terms = try store.indexKeys(.terms)
        let victim = terms.first { Shard.describeKey($0).contains("CustomKeywordField") }!
        try shard.database.delete(victim, in: shard.family(.terms))
        let stray = ShardKeys.posting(record("wf"), .open, field: "Ghost", type: .int, value: .int(5))
        try shard.database.put(stray, [], in: shard.family(.values))
        try shard.database.put([0xFF, 0x01], [], in: shard.family(.time))
        let report = try shard.verify()
        #expect(!report.isConsistent)
        #expect(report.differences.contains { $0.index == .terms && $0.kind == .missing && $0.key.contains("CustomKeywordField") })
        #expect(report.differences.contains { $0.index == .values && $0.kind == .unexpected && $0.key.contains("Ghost") })
        #expect(report.differences.contains { $0.index == .time && $0.kind == .unexpected && $0.key == "0xff01" })
    }
}
