import Foundation
import PeriscopeModel
import Synchronization
import PeriscopeQuery
import Testing
@testable import PeriscopeShard

/// Listings read at a snapshot whose records are ahead of its indexes (apply runs ahead of
/// the indexer). The node's merge starts a shard that gave nothing on the first page at a
/// new snapshot on a later page (eventual, no wait) and keeps that snapshot for the rest
/// of the listing, so whatever such a snapshot loses is lost for the whole listing: the
/// chaos run's scan missed wf-22, closed (moving it from the open partition to a closed
/// one) after the first page and before the page that first read its shard.
@Suite struct PagingAcrossWritesTests {
    /// Every id is five characters, so every record has WorkflowType `Type-2`.
    static let ids = ["wf-00", "wf-01", "wf-02", "wf-22", "wf-04", "wf-05", "wf-06"]

    /// Starts every execution (wf-22 in the middle of the default order), indexes them, and
    /// returns the applied index the indexes cover.
    static func populate(_ shard: Shard) throws -> UInt64 {
        try shard.apply(ids.enumerated().map { ShardCommand.start(record($0.element, start: time(day: 0, hour: Int64($0.offset)))) })
        try shard.indexUntilCaughtUp()
        return shard.appliedIndex
    }

    /// wf-22 closed as the chaos workload closes: a close time, and a new start time.
    static let close = ShardCommand.close(record("wf-22", version: 2, status: .completed, start: time(day: 0, hour: 20),
                                                 close: time(day: 1)))

    /// Default order from the time index, default order from term postings (the chaos
    /// scan's shape), ORDER BY as a top-K, and ORDER BY in the StartTime index's order.
    static let queries = ["", "WorkflowType = 'Type-2'", "ORDER BY StartTime DESC", "ORDER BY StartTime DESC"]
    static let topKMaxes = [5_000, 5_000, 5_000, 1]

    @Test(arguments: zip(PagingAcrossWritesTests.queries, PagingAcrossWritesTests.topKMaxes))
    func anExecutionClosedAfterTheWatermarkIsListedByAListingStartedBeforeItIsIndexed(query: String, topKMax: Int) throws {
        let store = try TemporaryShard(configuration: PagingTests.configuration(clock: ManualClock()))
        let shard = store.shard
        let acknowledged = try Self.populate(shard)
        // The close is applied; the indexer has not run yet.
        try shard.apply([Self.close])
        let limits = PlannerLimits(topKMax: topKMax)
        let plan = try PagingTests.plan(query)

        // A complete listing at this snapshot, strong at an index covering wf-22's start
        // (acknowledged before the query): wf-22 existed throughout, it must be there
        // (running, as the indexes have it, or closed), as a count at this moment says.
        let filter = query.hasPrefix("ORDER BY") ? "" : query
        let counted = try shard.count(namespaceId: "ns", plan: try Query.compile(filter, schema: NamespaceSchema(), context: .count).plan)
        #expect(counted.result.total == Self.ids.count)
        let whole = try shard.listPage(ShardPageRequest(namespaceId: "ns", plan: plan, pageSize: 100,
                                                        consistency: .strong(index: acknowledged), limits: limits))
        #expect(whole.records.map(\.key.workflowId).sorted() == Self.ids.sorted(), "\(query): one page at the lagging snapshot")

        // As the node pages a shard: the first page opens a point in time at this snapshot,
        // the indexer catches up, and later pages read the same point in time.
        var collected: [String] = []
        var token: [UInt8]?
        repeat {
            var request = ShardPageRequest(namespaceId: "ns", plan: plan, pageSize: 2, pageToken: token,
                                           consistency: .strong(index: acknowledged), limits: limits)
            request.keepsPointInTime = true
            let page = try shard.listPage(request)
            #expect(!page.pointInTimeLost)
            collected += page.records.map(\.key.workflowId)
            token = page.nextPageToken
            if let id = page.pointInTime, token == nil { shard.releasePointInTime(id) }
            try shard.indexUntilCaughtUp()
        } while token != nil
        #expect(collected.count == Set(collected).count, "\(query): \(collected)")
        #expect(collected.contains("wf-22"), "\(query): the paged listing skipped wf-22: \(collected)")
        #expect(Set(collected) == Set(Self.ids), "\(query): \(collected)")
    }

    /// The node merges shard pages by `QueryPlan.precedes` on the records; a shard emits
    /// them in index position order. The two agree only if the record read at a position
    /// is the one the position was made from.
    @Test func aShardPageIsInThePlansOrderWhileTheIndexLags() throws {
        let store = try TemporaryShard(configuration: PagingTests.configuration(clock: ManualClock()))
        let shard = store.shard
        _ = try Self.populate(shard)
        // wf-01 upserted with a newer start time (applied, not indexed): it moves to the front.
        try shard.apply([.upsert(record("wf-01", version: 2, start: time(day: 0, hour: 23)))])
        let plan = try PagingTests.plan("")
        let page = try shard.listPage(ShardPageRequest(namespaceId: "ns", plan: plan, pageSize: 100))
        let keys = page.records.map(\.key.workflowId)
        #expect(Set(keys) == Set(Self.ids))
        for (earlier, later) in zip(page.records, page.records.dropFirst()) {
            #expect(!plan.precedes(later, earlier), "\(later.key.workflowId) listed after \(earlier.key.workflowId): \(keys)")
        }
    }

    /// A point read reads the locator and the record at one snapshot: read apart, a write
    /// moving the record between them (a close to a closed partition, an upsert back to the
    /// open one) made a live execution read as absent (the chaos harness's read-your-writes
    /// checker, seed 12). A race, so a stress: one thread moves the execution 3,000 times
    /// while this one reads it.
    @Test func aPointReadNeverSeesAMovingExecutionAsAbsent() throws {
        let store = try TemporaryShard(configuration: PagingTests.configuration(clock: ManualClock()))
        let shard = store.shard
        try shard.apply([.start(record("wf-22", start: time(day: 0)))])
        let key = ExecutionKey(namespaceId: "ns", workflowId: "wf-22", runId: "r1")
        let finished = DispatchSemaphore(value: 0)
        let failure = Mutex<(any Error)?>(nil)
        let writer = Thread {
            do {
                for version in Int64(2)...3_001 {
                    let moved = version.isMultiple(of: 2)
                        ? ShardCommand.close(record("wf-22", version: version, status: .completed, start: time(day: 0), close: time(day: 1)))
                        : ShardCommand.upsert(record("wf-22", version: version, start: time(day: 0, hour: 1)))
                    try shard.apply([moved])
                }
            } catch {
                failure.withLock { $0 = error }
            }
            finished.signal()
        }
        writer.start()
        var reads = 0, absent = 0
        while finished.wait(timeout: .now()) == .timedOut {
            if try shard.execution(key) == nil { absent += 1 }
            reads += 1
        }
        #expect(failure.withLock { $0 } == nil)
        #expect(absent == 0, "\(absent) of \(reads) reads found a live execution absent")
        #expect(reads > 100)
    }
}
