import Foundation
import PeriscopeModel
import PeriscopeStorage
import PeriscopeTestSupport
import Testing
@testable import PeriscopeShard

/// What a shard does for replication between regions: failover versions deciding between
/// two homes' writes, the outbox of this region's writes, fences, cursors of replicated
/// batches, backfills and the digest regions compare.
@Suite struct CrossRegionTests {
    static let key = ExecutionKey(namespaceId: "ns", workflowId: "wf", runId: "r1")

    @Test func aNewerFailoverVersionWinsWhateverTheTaskIds() throws {
        let temporary = try TemporaryShard()
        let shard = temporary.shard
        #expect(try shard.apply([.upsert(record("wf", version: 10))]) == [.applied])
        // The new home's task ids are lower, but it accepted the write after the failover.
        #expect(try shard.apply([.upsert(failedOver(record("wf", version: 3), 2))]) == [.replaced(olderFailoverVersion: 0)])
        #expect(try shard.execution(Self.key)?.conflictVersion == ConflictVersion(failoverVersion: 2, version: 3))
        #expect(try shard.apply([.upsert(record("wf", version: 99))]) == [.ignored(.olderFailoverVersion(storedFailoverVersion: 2))])
        #expect(try shard.apply([.start(record("wf", version: 1))]) == [.ignored(.olderFailoverVersion(storedFailoverVersion: 2))])
        #expect(try shard.apply([.start(failedOver(record("wf", version: 1), 2))]) == [.ignored(.alreadyExists(storedVersion: 3))])
        // A start accepted after a later failover replaces the older era's execution.
        #expect(try shard.apply([.start(failedOver(record("wf", version: 1), 101))]) == [.replaced(olderFailoverVersion: 2)])
        #expect(try shard.apply([.delete(Self.key, version: 50, at: time(day: 1), failoverVersion: 2)])
            == [.ignored(.olderFailoverVersion(storedFailoverVersion: 101))])
        #expect(try shard.apply([.delete(Self.key, version: 2, at: time(day: 1), failoverVersion: 101)]) == [.applied])
        #expect(try shard.execution(Self.key) == nil)
        #expect(try shard.apply([.upsert(failedOver(record("wf", version: 1), 201))]) == [.replaced(olderFailoverVersion: 101)])
        // The stored failover version survives a reopen.
        try temporary.reopen()
        #expect(try temporary.shard.execution(Self.key)?.failoverVersion == 201)
        #expect(try temporary.shard.apply([.upsert(failedOver(record("wf", version: 9), 101))])
            == [.ignored(.olderFailoverVersion(storedFailoverVersion: 201))])
    }

    /// Three homes in turn (failover versions 0, 2 and 101) wrote the same executions; a
    /// region receives each home's writes in that home's order, interleaved any way with the
    /// others'. Every interleaving ends with the same records, the model's.
    @Test(arguments: 1...12) func writesOfSeveralHomesConvergeInEveryInterleaving(seed: UInt64) throws {
        var origins: [[ShardCommand]] = []
        for (offset, failoverVersion) in [Int64(0), 2, 101].enumerated() {
            var generator = WorkloadGenerator(seed: seed * 10 + UInt64(offset), executions: 12)
            generator.failoverVersion = failoverVersion
            origins.append((0..<60).map { _ in generator.command() })
        }
        var digests: Set<[String]> = []
        var random = SeededRandom(seed: seed)
        var model: ModelStore?
        for interleaving in 0..<4 {
            let temporary = try TemporaryShard()
            var next = [0, 0, 0]
            var local = ModelStore(scheme: .day)
            while next != origins.map(\.count) {
                let candidates = (0..<3).filter { next[$0] < origins[$0].count }
                let origin = interleaving == 0 ? candidates[0] : candidates[Int(random.next() % UInt64(candidates.count))]
                let command = origins[origin][next[origin]]
                next[origin] += 1
                local.apply(command)
                let batch = ReplicatedBatch(origin: UInt32(origin + 1), through: UInt64(next[origin]), commands: [command])
                try temporary.shard.apply([.replicated(batch)])
            }
            digests.insert(try ["ns-a", "ns-b"].map { try temporary.shard.namespaceDigest($0).sha256 })
            let stored = Set(try local.liveRecords.compactMap { try temporary.shard.execution($0.key) })
            #expect(stored == Set(local.liveRecords), "interleaving \(interleaving) stores what the model does")
            if let model { #expect(Set(model.liveRecords) == Set(local.liveRecords)) }
            model = local
        }
        #expect(digests.count == 1, "every interleaving ends with the same namespace digests")
    }

    @Test func replicableWritesFillTheOutboxAndAFenceRefusesThem() throws {
        let temporary = try TemporaryShard()
        let shard = temporary.shard
        try shard.apply([.upsert(record("b", version: 5))])
        let outcomes = try shard.apply([.replicable(originTime: time(day: 1), [.start(record("a")), .upsert(record("b", version: 4))])])
        #expect(outcomes == [.applied, .ignored(.staleVersion(storedVersion: 5))])
        var read = try shard.outbox(after: 0, entriesMax: 10, bytesMax: 1 << 20)
        // Only what changed the store is kept for other regions.
        #expect(read.entries == [OutboxEntry(index: 2, originTime: time(day: 1), commands: [.start(record("a"))])])
        #expect(read.appliedIndex == 2 && read.trimmedThrough == 0 && !read.more)

        try shard.apply([.fence(namespaceId: "ns", throughFailoverVersion: 0)])
        #expect(try shard.apply([.replicable(originTime: time(day: 1), [.start(record("c")), .start(failedOver(record("d"), 2)),
                                                                     .start(record("e", namespace: "other"))])])
            == [.fenced(throughFailoverVersion: 0), .applied, .applied])
        #expect(try shard.execution(ExecutionKey(namespaceId: "ns", workflowId: "c", runId: "r1")) == nil)
        // Writes replicated from another region are that region's, never fenced here.
        #expect(try shard.apply([.replicated(ReplicatedBatch(origin: 2, through: 1, commands: [.start(record("f"))]))]) == [.applied])
        try temporary.reopen()
        #expect(temporary.shard.fence(of: "ns") == 0)
        #expect(try temporary.shard.apply([.replicable(originTime: .epoch, [.start(record("c"))])]) == [.fenced(throughFailoverVersion: 0)])
        try temporary.shard.apply([.fence(namespaceId: "ns", throughFailoverVersion: nil)])
        #expect(try temporary.shard.apply([.replicable(originTime: .epoch, [.start(record("c"))])]) == [.applied])
        read = try temporary.shard.outbox(after: 2, entriesMax: 10, bytesMax: 1 << 20)
        #expect(read.entries.map(\.index) == [4, 8] && read.entries[0].commands.count == 2)
        #expect(try temporary.shard.firstOutboxEntry(after: 4)?.index == 8)
        #expect(try temporary.shard.newestOutboxIndex() == 8)
    }

    @Test func aReplicatedBatchMovesItsRegionsCursorOnce() throws {
        let temporary = try TemporaryShard()
        let shard = temporary.shard
        let batch = ReplicatedBatch(origin: 2, through: 10, commands: [.start(record("a")), .start(record("b"))])
        #expect(try shard.apply([.replicated(batch)]) == [.applied, .applied])
        #expect(shard.replicationCursor(from: 2) == 10 && shard.replicationCursor(from: 3) == 0)
        // Sent again (a new leader resubscribed from an older cursor): ignored whole.
        var again = batch
        again.commands = [.upsert(record("a", version: 9))]
        #expect(try shard.apply([.replicated(again)]) == [.ignored(.alreadyReplicated(cursor: 10))])
        again.through = 8
        #expect(try shard.apply([.replicated(again)]) == [.ignored(.alreadyReplicated(cursor: 10))])
        #expect(try shard.execution(ExecutionKey(namespaceId: "ns", workflowId: "a", runId: "r1"))?.version == 1)
        // A backfill chunk applies whatever the cursor, and leaves it.
        let chunk = ReplicatedBatch(origin: 2, through: 0, commands: [.upsert(record("a", version: 9))], backfilled: ["ns": 7])
        #expect(try shard.apply([.replicated(chunk)]) == [.applied])
        #expect(shard.replicationCursor(from: 2) == 10)
        #expect(try shard.backfilledVersion(of: "ns", from: 2) == 7)
        #expect(try shard.backfilledVersion(of: "ns", from: 3) == nil && shard.backfilledVersion(of: "other", from: 2) == nil)
        try shard.apply([.replicated(ReplicatedBatch(origin: 3, through: 4, commands: []))])
        try temporary.reopen()
        #expect(temporary.shard.replicationCursors == [2: 10, 3: 4])

        // A snapshot carries the cursors to another replica of the group.
        let target = try TemporaryShard()
        let files = NSTemporaryDirectory() + "periscope-snapshot-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: files) }
        let frozen = try temporary.shard.takeSnapshot()
        try target.shard.installSnapshot(files: try frozen.write(files), in: files, at: frozen.appliedIndex)
        #expect(target.shard.replicationCursors == [2: 10, 3: 4])
    }

    @Test func theOutboxIsTrimmedWhenEveryRegionHasItAndPastItsSpan() throws {
        let temporary = try TemporaryShard(configuration: Shard.Configuration(outboxRetainedEntries: 32))
        let shard = temporary.shard
        for index in 1...20 { try shard.apply([.replicable(originTime: time(day: 1), [.start(record("w\(index)"))])]) }
        #expect(try shard.apply([.trimOutbox(through: 12)]) == [.applied])
        #expect(try shard.apply([.trimOutbox(through: 5)]) == [.ignored(.alreadyReplicated(cursor: 12))])
        var read = try shard.outbox(after: 0, entriesMax: 100, bytesMax: 1 << 20)
        #expect(read.trimmedThrough == 12 && read.entries.map(\.index) == Array(13...20))
        for index in 21...100 { try shard.apply([.replicable(originTime: time(day: 1), [.start(record("w\(index)"))])]) }
        read = try shard.outbox(after: 0, entriesMax: 200, bytesMax: 1 << 20)
        // Trimmed in steps of a sixteenth of the span, never keeping less than the span.
        #expect(read.trimmedThrough >= 102 - 32 - 2 && read.trimmedThrough <= 102 - 32)
        #expect(read.entries.first!.index == read.trimmedThrough + 1 && read.entries.last!.index == 102)
        read = try shard.outbox(after: 90, entriesMax: 4, bytesMax: 1 << 20)
        #expect(read.entries.map(\.index) == [91, 92, 93, 94] && read.more)
        #expect(try shard.outbox(after: 0, entriesMax: 100, bytesMax: 1).entries.count == 1, "at least one entry however small the limit")
    }

    @Test func aBackfillRecreatesANamespaceInAnotherRegion() throws {
        let source = try TemporaryShard()
        var generator = WorkloadGenerator(seed: 3, executions: 60)
        generator.failoverVersion = 2
        for _ in 0..<200 { try source.shard.apply([generator.entry()]) }
        try source.shard.apply([.start(record("elsewhere", namespace: "not-replicated"))])
        // The target already holds copies of some of them from before the failover.
        let target = try TemporaryShard()
        var older = WorkloadGenerator(seed: 4, executions: 60)
        for _ in 0..<50 {
            let command = older.command()
            if try source.shard.state(of: command.executionKey!) != nil { try target.shard.apply([command]) }
        }

        let backfill = try source.shard.beginBackfill()
        var after: [UInt8]?
        var chunks = 0
        repeat {
            let chunk = try source.shard.backfillChunk(backfill, namespaceIds: ["ns-a", "ns-b"], after: after, limit: 7, bytesMax: 1 << 20)
            #expect(chunk.commands.count <= 7)
            try target.shard.apply([.replicated(ReplicatedBatch(origin: 1, through: 0, commands: chunk.commands))])
            after = chunk.resumeAfter
            chunks += 1
        } while after != nil
        source.shard.endBackfill(backfill)
        #expect(chunks > 5)
        for namespace in ["ns-a", "ns-b"] {
            #expect(try target.shard.namespaceDigest(namespace) .sha256 == source.shard.namespaceDigest(namespace).sha256, "\(namespace)")
        }
        #expect(try target.shard.namespaceDigest("not-replicated").entries == 0)
        #expect(throws: ShardQueryError.self) {
            try source.shard.backfillChunk(backfill, namespaceIds: ["ns-a"], after: nil, limit: 7, bytesMax: 1 << 20)
        }
    }

    @Test func theNamespaceDigestIgnoresLogPositionsButNotContent() throws {
        let one = try TemporaryShard()
        let other = try TemporaryShard()
        try other.shard.apply([.start(record("unrelated", namespace: "x"))])
        for shard in [one.shard, other.shard] {
            try shard.apply([.start(record("a")), .close(record("b", version: 2, status: .completed, close: time(day: 1))),
                             .delete(ExecutionKey(namespaceId: "ns", workflowId: "c", runId: "r1"), version: 3, at: time(day: 2))])
        }
        #expect(try one.shard.namespaceDigest("ns") == ReplicaDigest(appliedIndex: 3, entries: 3, sha256: other.shard.namespaceDigest("ns").sha256))
        try other.shard.apply([.upsert(record("a", version: 2))])
        #expect(try one.shard.namespaceDigest("ns").sha256 != other.shard.namespaceDigest("ns").sha256)
    }
}
