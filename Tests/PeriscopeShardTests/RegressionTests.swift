import PeriscopeModel
import PeriscopeQuery
import PeriscopeStorage
import Testing
@testable import PeriscopeShard

/// Cases a review found, each once wrong.
@Suite struct RegressionTests {
    /// A write after retention dropped an execution's partition must keep the chain of its
    /// changes, or the indexer computes the wrong state for a watermark before the expiry.
    @Test func theChangeChainSurvivesRetention() throws {
        let store = try TemporaryShard(configuration: Shard.Configuration(indexBatchEntriesMax: 1))
        let shard = store.shard
        var model = ModelStore(scheme: .day)
        var modelAt: [UInt64: ModelStore] = [0: model]
        func apply(_ command: ShardCommand) throws {
            try shard.apply([command])
            model.apply(command)
            modelAt[shard.appliedIndex] = model
        }
        try apply(.start(record("r", version: 1, start: time(day: 0))))
        try shard.indexPending()
        try apply(.upsert(record("r", version: 2, start: time(day: 0), attributes: ["CustomKeywordField": .keyword("two")])))
        try apply(.close(record("r", version: 3, status: .completed, start: time(day: 0), close: time(day: 0, hour: 3))))
        try apply(.expire(namespaceId: "ns", closedBefore: time(day: 1)))
        try apply(.upsert(record("r", version: 4, start: time(day: 0), attributes: ["CustomKeywordField": .keyword("four")])))
        while true {
            let progress = try shard.indexPending()
            let expected = modelAt[progress.watermark]!, later = modelAt[progress.appliedIndex]!
            for index in ShardIndex.allCases {
                let found = try store.indexKeys(index).filter { !later.isExpired(indexKey: $0) }
                let wanted = expected.expectedKeys(index).filter { !later.isExpired(indexKey: $0) }
                #expect(found == wanted, "\(index) at watermark \(progress.watermark)")
            }
            if progress.isCaughtUp { break }
        }
    }

    /// Point lookups describe the watermark's state, like every other path, so combining
    /// them with postings neither counts an execution twice nor loses it while the indexer
    /// lags apply.
    @Test func lookupsAgreeWithPostingsWhileTheIndexLags() throws {
        let store = try TemporaryShard()
        let shard = store.shard
        try shard.apply([.start(record("w", start: time(day: 0))), .start(record("xx", start: time(day: 1)))])  // another workflow type
        try shard.apply([.close(record("xx", version: 2, status: .completed, start: time(day: 1), close: time(day: 2)))])
        try shard.indexUntilCaughtUp()
        // Closed, applied, not indexed yet.
        try shard.apply([.close(record("w", version: 2, status: .completed, start: time(day: 0), close: time(day: 2)))])
        let type = record("w").workflowType
        for (text, expected) in [("WorkflowId = 'w' OR WorkflowType = '\(type)'", 1), ("WorkflowId != 'w'", 1),
                                 ("WorkflowId = 'w' AND WorkflowType = '\(type)'", 1)] {
            let count = try Query.compile(text, schema: NamespaceSchema(), context: .count).plan
            #expect(try shard.count(namespaceId: "ns", plan: count).result.total == expected, "\(text)")
            let list = try Query.compile(text, schema: NamespaceSchema(), context: .list).plan
            let keys = try shard.list(ShardListRequest(namespaceId: "ns", plan: list)).records.map(\.key.workflowId)
            #expect(keys.count == Set(keys).count, "\(text): \(keys)")
        }
    }

    /// Text tokens and keyword lists compare by bytes in the index and in the oracle alike:
    /// canonically equivalent spellings are different values.
    @Test func unicodeSpellingsCompareByBytesEverywhere() throws {
        let store = try TemporaryShard()
        var schema = NamespaceSchema()
        try schema.addCustomAttribute("CustomTextField", type: .text)
        let records = [
            record("composed", attributes: ["CustomTextField": .text("caf\u{E9} au lait"), "BuildIds": .keywordList(["\u{E9}", "e\u{301}"])]),
            record("decomposed", attributes: ["CustomTextField": .text("cafe\u{301}")]),
        ]
        try store.shard.apply(records.map { .start($0) })
        try store.shard.indexUntilCaughtUp()
        for text in ["CustomTextField = 'cafe\u{301}'", "CustomTextField = 'caf\u{E9}'", "BuildIds = 'e\u{301}'", "BuildIds = '\u{E9}'"] {
            let plan = try Query.compile(text, schema: schema, context: .count).plan
            #expect(try store.shard.count(namespaceId: "ns", plan: plan).result == (try plan.count(records)), "\(text)")
            #expect(try plan.count(records).total == 1, "\(text)")
        }
    }
}
