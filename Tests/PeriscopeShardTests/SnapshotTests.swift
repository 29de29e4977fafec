import Foundation
import PeriscopeModel
import PeriscopeQuery
import PeriscopeStorage
import PeriscopeTestSupport
import Testing
@testable import PeriscopeShard

/// A shard's whole state, taken on one replica and installed on another: what a follower
/// that fell behind the leader's compacted log (or joins empty) receives.
@Suite struct ShardSnapshotTests {
    @Test func anInstalledSnapshotMakesTheReplicaEqualToTheSource() throws {
        let source = try TemporaryShard(configuration: Shard.Configuration(partitionScheme: .day, indexBatchEntriesMax: 100))
        let target = try TemporaryShard()
        var generator = WorkloadGenerator(seed: 5, executions: 80)
        var model = ModelStore(scheme: .day)
        for _ in 0..<300 {
            let command = generator.entry()
            try source.shard.apply([command])
            model.apply(command)
        }
        // Indexed partly: the snapshot carries the indexes at their own watermark.
        _ = try source.shard.indexPending()
        var other = WorkloadGenerator(seed: 99, executions: 30)
        for _ in 0..<40 { try target.shard.apply([other.entry()]) }
        try target.shard.indexUntilCaughtUp()

        let frozen = try source.shard.takeSnapshot()
        #expect(frozen.appliedIndex == 300)
        // Written after the snapshot was taken: not in it.
        try source.shard.apply([generator.entry()])
        let files = NSTemporaryDirectory() + "periscope-snapshot-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: files) }
        let exported = try frozen.write(files)
        #expect(Set(exported.map(\.columnFamily)).isSuperset(of: ["meta", "locator", "records"]))

        try target.shard.installSnapshot(files: exported, in: files, at: 305)
        #expect(target.shard.appliedIndex == 305)
        #expect(target.shard.indexProgress.current < 300, "the watermark is the source's, not the target's old one")
        try target.shard.indexUntilCaughtUp()
        #expect(try target.shard.verify().isConsistent)
        for index in ShardIndex.allCases { #expect(try target.indexKeys(index) == model.expectedKeys(index), "\(index)") }
        let live = Set(model.liveRecords.map(\.key))
        for key in live { #expect(try target.shard.execution(key) != nil) }

        // Entries after the snapshot apply on top; those at or below its index are replays.
        try target.shard.apply([CommittedEntry(index: 304, data: ShardCommand.start(record("replayed", namespace: "ns-a")).encoded())])
        #expect(try target.shard.execution(ExecutionKey(namespaceId: "ns-a", workflowId: "replayed", runId: "r1")) == nil)
        try target.shard.apply([CommittedEntry(index: 306, data: ShardCommand.start(record("after", namespace: "ns-a")).encoded())])
        #expect(try target.shard.execution(ExecutionKey(namespaceId: "ns-a", workflowId: "after", runId: "r1")) != nil)

        // And it all survives a reopen.
        try target.reopen()
        #expect(target.shard.appliedIndex == 306)
        #expect(try target.shard.execution(ExecutionKey(namespaceId: "ns-a", workflowId: "after", runId: "r1")) != nil)
    }

    @Test func aSnapshotOfAnotherPartitionSchemeIsRefused() throws {
        let source = try TemporaryShard(configuration: Shard.Configuration(partitionScheme: PartitionScheme(widthNanoseconds: 3_600_000_000_000)))
        try source.shard.apply([ShardCommand.start(record("a"))])
        let target = try TemporaryShard()
        let files = NSTemporaryDirectory() + "periscope-snapshot-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: files) }
        let exported = try source.shard.takeSnapshot().write(files)
        #expect { try target.shard.installSnapshot(files: exported, in: files, at: 1) } throws: { "\($0)".contains("same partition scheme") }
    }
}
