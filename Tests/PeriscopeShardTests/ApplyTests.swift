import Foundation
import PeriscopeModel
import PeriscopeStorage
import Testing
@testable import PeriscopeShard

@Suite struct ApplyTests {
    let key = ExecutionKey(namespaceId: "ns", workflowId: "wf", runId: "r1")

    @Test func startInsertsOnlyIfAbsentAndNewerVersionsWin() throws {
        let store = try TemporaryShard()
        let shard = store.shard
        #expect(try shard.apply([.start(record("wf", version: 5))]) == [.applied])
        #expect(try shard.apply([.start(record("wf", version: 9))]) == [.ignored(.alreadyExists(storedVersion: 5))])
        #expect(try shard.apply([.upsert(record("wf", version: 5))]) == [.ignored(.staleVersion(storedVersion: 5))])
        let upserted = record("wf", version: 7, attributes: ["CustomKeywordField": .keyword("x")])
        #expect(try shard.apply([.upsert(upserted)]) == [.applied])
        #expect(try shard.execution(key) == upserted)
        let closed = record("wf", version: 8, status: .completed, close: time(day: 1))
        #expect(try shard.apply([.close(closed)]) == [.applied])
        // A late upsert with an older version does not reopen it.
        #expect(try shard.apply([.upsert(upserted)]) == [.ignored(.staleVersion(storedVersion: 8))])
        #expect(try shard.execution(key) == closed)
        #expect(shard.appliedIndex == 6)
    }

    @Test func closeBeforeStartAndOutOfOrderDeliveryConverge() throws {
        let store = try TemporaryShard()
        let closed = record("wf", version: 8, status: .completed, close: time(day: 1))
        #expect(try store.shard.apply([.close(closed), .start(record("wf", version: 1)), .upsert(record("wf", version: 4))])
            == [.applied, .ignored(.alreadyExists(storedVersion: 8)), .ignored(.staleVersion(storedVersion: 8))])
        #expect(try store.shard.execution(key) == closed)
    }

    @Test func aTombstoneKeepsOlderWritesOutAndANewerWriteWins() throws {
        let store = try TemporaryShard()
        let shard = store.shard
        try shard.apply([.start(record("wf", version: 1)), .delete(key, version: 10, at: time(day: 2))])
        #expect(try shard.execution(key) == nil)
        #expect(try shard.apply([.start(record("wf", version: 1)), .close(record("wf", version: 9, close: time(day: 1)))])
            == [.ignored(.alreadyExists(storedVersion: 10)), .ignored(.deleted(tombstoneVersion: 10))])
        #expect(try shard.execution(key) == nil)
        // A delete of an execution never seen still leaves a tombstone.
        let unseen = ExecutionKey(namespaceId: "ns", workflowId: "ghost", runId: "r1")
        #expect(try shard.apply([.delete(unseen, version: 3, at: time(day: 2)), .start(record("ghost", version: 1))])
            == [.applied, .ignored(.alreadyExists(storedVersion: 3))])
        let revived = record("wf", version: 11)
        #expect(try shard.apply([.upsert(revived)]) == [.applied])
        #expect(try shard.execution(key) == revived)
    }

    @Test func replayedEntriesChangeNothing() throws {
        let store = try TemporaryShard()
        let shard = store.shard
        let entries = [CommittedEntry(index: 1, data: ShardCommand.start(record("wf", version: 1)).encoded()),
                       CommittedEntry(index: 2, data: ShardCommand.upsert(record("wf", version: 2)).encoded())]
        try shard.apply(entries)
        let before = try store.indexKeys(.terms)
        // The same entries again (a replay after a restart): skipped by index.
        #expect(try shard.apply(entries).isEmpty)
        #expect(shard.appliedIndex == 2)
        #expect(try store.indexKeys(.terms) == before)
        // The same commands as new entries: ignored by version.
        #expect(try shard.apply([.start(record("wf", version: 1)), .upsert(record("wf", version: 2))])
            == [.ignored(.alreadyExists(storedVersion: 2)), .ignored(.staleVersion(storedVersion: 2))])
    }

    @Test func aBatchAppliesInOrderAndSeesItsOwnWrites() throws {
        let store = try TemporaryShard()
        let outcomes = try store.shard.apply([.batch([
            .start(record("wf", version: 1)), .upsert(record("wf", version: 3)), .upsert(record("wf", version: 2)),
            .close(record("wf", version: 4, status: .completed, close: time(day: 1))), .delete(key, version: 5, at: time(day: 1)),
            .start(record("wf", version: 6)),
        ])])
        #expect(outcomes == [.applied, .applied, .ignored(.staleVersion(storedVersion: 3)), .applied, .applied,
                             .ignored(.alreadyExists(storedVersion: 5))])
        #expect(try store.shard.execution(key) == nil)
        try store.shard.indexUntilCaughtUp()
        let report = try store.shard.verify()
        #expect(report.isConsistent, "\(report)")
    }

    @Test func undecodableEntriesAreRejectedAndStillAdvanceTheAppliedIndex() throws {
        let store = try TemporaryShard()
        let outcomes = try store.shard.apply([CommittedEntry(index: 1, data: [0xFF, 0x00]), CommittedEntry(index: 2, data: []),
                                              CommittedEntry(index: 4, data: ShardCommand.start(record("wf")).encoded())])
        guard case .rejected(let message)? = outcomes[1]?.first else { Issue.record("entry 1: \(String(describing: outcomes[1]))"); return }
        #expect(message.contains("entry 1") && message.contains("unknown command format 255"))
        #expect(outcomes[2] == [])
        #expect(outcomes[4] == [.applied])
        #expect(store.shard.appliedIndex == 4)
    }

    @Test func closingMovesTheRecordToItsPartitionAndSurvivesReopen() throws {
        let store = try TemporaryShard()
        try store.shard.apply([.start(record("wf", version: 1)),
                               .close(record("wf", version: 2, status: .completed, close: time(day: 3, hour: 5)))])
        let shard = store.shard
        #expect(try shard.record(key, in: .open) == nil)
        #expect(try shard.record(key, in: .closed(bucket: epochDay + 3))?.version == 2)
        try store.reopen()
        #expect(store.shard.appliedIndex == 2)
        #expect(try store.shard.execution(key)?.version == 2)
    }

    @Test func aShardRefusesNonPositiveBatchAndPointInTimeBounds() throws {
        let path = NSTemporaryDirectory() + "periscope-shard-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: path) }
        for configuration in [Shard.Configuration(indexBatchEntriesMax: 0), Shard.Configuration(pointsInTimeMax: -1),
                              Shard.Configuration(outboxRetainedEntries: 0)] {
            #expect { try Shard.open(at: path, configuration: configuration) } throws: {
                "\($0)".contains("indexBatchEntriesMax, pointsInTimeMax and outboxRetainedEntries must be positive")
            }
        }
    }

    @Test func aShardRefusesToOpenWithAnotherPartitionWidth() throws {
        let store = try TemporaryShard()
        try store.shard.close()
        let hourly = Shard.Configuration(partitionScheme: PartitionScheme(widthNanoseconds: 3_600_000_000_000))
        #expect {
            try Shard.open(at: store.path, configuration: hourly)
        } throws: { error in
            "\(error)".contains("created with partitions 86400000000000 ns wide; opened with 3600000000000 ns")
        }
        try store.reopen()
    }
}
