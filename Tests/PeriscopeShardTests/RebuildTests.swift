import PeriscopeModel
import PeriscopeQuery
import PeriscopeStorage
import PeriscopeTestSupport
import Testing
@testable import PeriscopeShard

@Suite struct RebuildTests {
    /// Damage of every kind is repaired while apply, the indexer and queries go on between
    /// the rebuild's chunks.
    @Test func anOnlineRebuildRepairsEveryIndexWhileWritesAndQueriesContinue() throws {
        let store = try TemporaryShard(configuration: Shard.Configuration(indexBatchEntriesMax: 3))
        let shard = store.shard
        var generator = WorkloadGenerator(seed: 11, executions: 60)
        var model = ModelStore(scheme: .day)
        func write(_ count: Int) throws {
            for _ in 0..<count {
                let command = generator.entry()
                try shard.apply([command])
                model.apply(command)
            }
        }
        try write(150)
        try shard.indexUntilCaughtUp()

        // Damage: lost keys in every index, the whole value index gone (as if a new build
        // indexed more), stray keys of known and unknown executions, an undecodable key.
        var random = SeededRandom(seed: 3)
        for index in [ShardIndex.time, .terms] {
            for key in try store.indexKeys(index) where random.next() % 5 == 0 {
                try shard.database.delete(key, in: shard.family(index.columnFamily))
            }
        }
        for key in try store.indexKeys(.values) { try shard.database.delete(key, in: shard.family(.values)) }
        let someone = try #require(model.liveRecords.first)
        try shard.database.put(ShardKeys.posting(someone, .open, field: "Ghost", type: .keyword, value: .string("boo")), [],
                               in: shard.family(.terms))
        try shard.database.put(ShardKeys.time(record("nobody", namespace: "ns-a"), .open), [], in: shard.family(.time))
        try shard.database.put([0x50, 0x00], [], in: shard.family(.terms))
        #expect(try !shard.verify().isConsistent)

        let plan = try Query.compile("CustomKeywordField = 'red' OR CustomIntField > 3", schema: NamespaceSchema(customAttributes: [
            "CustomKeywordField": .keyword, "CustomIntField": .int,
        ]), context: .list).plan
        var queries = 0
        let progress = try shard.rebuildIndexes(chunkSize: 7) { _ in
            try write(2)
            try shard.indexPending()
            _ = try shard.list(ShardListRequest(namespaceId: "ns-a", plan: plan))
            queries += 1
        }
        #expect(queries == progress.chunks && progress.chunks > 20)
        #expect(progress.keysRemoved >= 3 && progress.keysAdded > 100, "\(progress)")

        try shard.indexUntilCaughtUp()
        let report = try shard.verify()
        #expect(report.isConsistent, "\(report)")
        for index in ShardIndex.allCases { #expect(try store.indexKeys(index) == model.expectedKeys(index), "\(index)") }
    }
}
