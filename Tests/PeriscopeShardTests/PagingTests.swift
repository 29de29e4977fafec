import Foundation
import PeriscopeModel
import PeriscopeQuery
import PeriscopeStorage
import PeriscopeTestSupport
import Synchronization
import Testing
@testable import PeriscopeShard

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let now = Mutex(Duration.zero)
    func advance(_ by: Duration) { now.withLock { $0 += by } }
    var read: @Sendable () -> Duration { { [self] in now.withLock { $0 } } }
}

@Suite struct PagingTests {
    static let key = PageTokenKey(bytes: Array(repeating: 7, count: 32))
    static let otherKey = PageTokenKey(bytes: Array(repeating: 8, count: 32))

    static func configuration(clock: ManualClock, key: PageTokenKey = key) -> Shard.Configuration {
        Shard.Configuration(pageTokenKey: key, pointInTimeKeepAlive: .seconds(30), pointsInTimeMax: 4, clock: clock.read)
    }

    static func plan(_ text: String) throws -> QueryPlan {
        var schema = NamespaceSchema()
        try schema.addCustomAttribute("CustomIntField", type: .int)
        return try Query.compile(text, schema: schema, context: .list).plan
    }

    /// Starts `count` executions, closes every third, and indexes them.
    static func populate(_ shard: Shard, count: Int) throws {
        func execution(_ index: Int, closed: Bool) -> VisibilityRecord {
            let start = time(day: Int64(index % 4), hour: Int64(index % 24))
            let attributes: [String: SearchAttributeValue] = ["CustomIntField": .int(Int64(index % 7))]
            guard closed else { return record("wf-\(index)", start: start, attributes: attributes) }
            return record("wf-\(index)", version: 2, status: .completed, start: start, close: time(day: Int64(index % 4 + 1)),
                          attributes: attributes)
        }
        try shard.apply((0..<count).map { ShardCommand.start(execution($0, closed: false)) })
        try shard.apply((0..<count).filter { $0 % 3 == 0 }.map { ShardCommand.close(execution($0, closed: true)) })
        try shard.indexUntilCaughtUp()
    }

    @Test(arguments: ["", "CustomIntField >= 2", "ExecutionStatus = 'Running' ORDER BY CustomIntField DESC, StartTime",
                      "ORDER BY StartTime"])
    func pagesReadOnePointInTimeWhileWritesContinue(query: String) throws {
        let plan = try Self.plan(query)
        for pageSize in [1, 4, 7] {
            let store = try TemporaryShard(configuration: Self.configuration(clock: ManualClock()))
            let shard = store.shard
            try Self.populate(shard, count: 60)
            let all = try shard.list(ShardListRequest(namespaceId: "ns", plan: plan, pageSize: 1_000)).records.map(\.key)
            #expect(all.count > 10)
            var collected: [ExecutionKey] = []
            var token: [UInt8]?
            var round = 0
            repeat {
                let page = try shard.listPage(ShardPageRequest(namespaceId: "ns", plan: plan, pageSize: pageSize, pageToken: token))
                #expect(!page.pointInTimeLost)
                collected += page.records.map(\.key)
                token = page.nextPageToken
                // Writes between pages: new executions, closes and attribute changes of
                // listed and unlisted ones, all indexed before the next page.
                round += 1
                try shard.apply([
                    .start(record("late-\(round)", start: time(day: 9), attributes: ["CustomIntField": .int(6)])),
                    .close(record("wf-\(round % 60)", version: 10 + Int64(round), status: .failed, start: time(day: 0),
                                  close: time(day: 8), attributes: ["CustomIntField": .int(Int64(round % 5))])),
                ])
                try shard.indexUntilCaughtUp()
            } while token != nil
            #expect(collected == all, "page size \(pageSize): \(query)")
            // Without a point in time the same paging would see the writes.
            let now = try shard.list(ShardListRequest(namespaceId: "ns", plan: plan, pageSize: 1_000)).records.map(\.key)
            #expect(now != all)
            // The listing's point in time is released with its last page.
            #expect(shard.pointsInTimeOpen == 0)
        }
    }

    @Test func tokensThatWereAlteredForgedOrIssuedForSomethingElseAreRefused() throws {
        let clock = ManualClock()
        let store = try TemporaryShard(configuration: Self.configuration(clock: clock))
        try Self.populate(store.shard, count: 20)
        let plan = try Self.plan("CustomIntField >= 1")
        let first = try store.shard.listPage(ShardPageRequest(namespaceId: "ns", plan: plan, pageSize: 3))
        let token = try #require(first.nextPageToken)
        func refusal(_ bytes: [UInt8], namespace: String = "ns", plan: QueryPlan = plan) -> String? {
            do {
                _ = try store.shard.listPage(ShardPageRequest(namespaceId: namespace, plan: plan, pageSize: 3, pageToken: bytes))
                return nil
            } catch let error as ShardQueryError {
                return error.code == .invalidArgument ? error.message : "wrong code: \(error)"
            } catch {
                return "unexpected error \(error)"
            }
        }
        // Every single-byte change is caught.
        for index in token.indices {
            var altered = token
            altered[index] ^= 0x40
            let message = refusal(altered)
            #expect(message?.hasPrefix("invalid page token: ") == true, "byte \(index): \(String(describing: message))")
        }
        #expect(refusal(Array(token.dropLast()))?.contains("signature does not match") == true)
        #expect(refusal([])?.contains("it is empty") == true)
        #expect(refusal(Array("garbage, not a token at all".utf8))?.contains("unknown format") == true)
        #expect(refusal([1, 2, 3])?.contains("too short") == true)
        #expect(refusal(token, namespace: "other")?.contains("issued for namespace ns, not other") == true)
        #expect(refusal(token, plan: try Self.plan("CustomIntField >= 2"))?.contains("issued for another query") == true)
        // A token signed with another node's key.
        let stranger = try TemporaryShard(configuration: Self.configuration(clock: clock, key: Self.otherKey))
        try Self.populate(stranger.shard, count: 20)
        let foreign = try #require(try stranger.shard.listPage(ShardPageRequest(namespaceId: "ns", plan: plan, pageSize: 3)).nextPageToken)
        #expect(refusal(foreign)?.contains("issued by a server with another key") == true)
        // The genuine token still works.
        #expect(refusal(token) == nil)
    }

    @Test func aLostPointInTimeContinuesFromTheCursorAndSaysSo() throws {
        let clock = ManualClock()
        let store = try TemporaryShard(configuration: Self.configuration(clock: clock))
        try Self.populate(store.shard, count: 30)
        let plan = try Self.plan("")
        let all = try store.shard.list(ShardListRequest(namespaceId: "ns", plan: plan, pageSize: 1_000)).records.map(\.key)
        let first = try store.shard.listPage(ShardPageRequest(namespaceId: "ns", plan: plan, pageSize: 10))
        // Kept alive by use...
        clock.advance(.seconds(20))
        let second = try store.shard.listPage(ShardPageRequest(namespaceId: "ns", plan: plan, pageSize: 10, pageToken: first.nextPageToken))
        #expect(!second.pointInTimeLost)
        // ...and gone 30 seconds after the last use: the next page continues after the cursor.
        clock.advance(.seconds(31))
        let third = try store.shard.listPage(ShardPageRequest(namespaceId: "ns", plan: plan, pageSize: 10, pageToken: second.nextPageToken))
        #expect(third.pointInTimeLost)
        #expect((first.records + second.records + third.records).map(\.key) == all)
        // A restart loses every point in time; tokens stay valid (same key).
        let fourth = try store.shard.listPage(ShardPageRequest(namespaceId: "ns", plan: plan, pageSize: 5))
        try store.reopen()
        let fifth = try store.shard.listPage(ShardPageRequest(namespaceId: "ns", plan: plan, pageSize: 5, pageToken: fourth.nextPageToken))
        #expect(fifth.pointInTimeLost)
        #expect((fourth.records + fifth.records).map(\.key) == Array(all.prefix(10)))
    }

    @Test func pointsInTimeAreBounded() throws {
        let clock = ManualClock()
        let store = try TemporaryShard(configuration: Self.configuration(clock: clock))
        try Self.populate(store.shard, count: 10)
        let plan = try Self.plan("")
        var tokens: [[UInt8]] = []
        for _ in 0..<6 {
            tokens.append(try #require(try store.shard.listPage(ShardPageRequest(namespaceId: "ns", plan: plan, pageSize: 2)).nextPageToken))
            clock.advance(.seconds(1))
        }
        #expect(store.shard.pointsInTimeOpen == 4)
        // The oldest were dropped: their next page says so.
        let oldest = try store.shard.listPage(ShardPageRequest(namespaceId: "ns", plan: plan, pageSize: 2, pageToken: tokens[0]))
        #expect(oldest.pointInTimeLost)
        let newest = try store.shard.listPage(ShardPageRequest(namespaceId: "ns", plan: plan, pageSize: 2, pageToken: tokens[5]))
        #expect(!newest.pointInTimeLost)
    }

    @Test func readYourWritesWaitsForTheIndexerAndStrongTimesOutClearly() async throws {
        let clock = ManualClock()
        let store = try TemporaryShard(configuration: Self.configuration(clock: clock))
        let shard = store.shard
        try Self.populate(shard, count: 5)
        try shard.apply([.start(record("fresh", start: time(day: 20)))])
        let token = ConsistencyToken.make(index: shard.appliedIndex)
        let plan = try Self.plan("StartTime >= '\(time(day: 20).rfc3339)'")
        // Eventual: the write is applied but not indexed yet.
        #expect(try shard.listPage(ShardPageRequest(namespaceId: "ns", plan: plan)).records.isEmpty)
        // Read-your-writes waits until the indexer, running a moment later, covers it.
        // (Both on threads of their own: the cooperative pool may be busy with other tests.)
        async let indexed: Void = onDedicatedThread {
            usleep(300_000)
            try shard.indexUntilCaughtUp()
        }
        let page = try await onDedicatedThread {
            try shard.listPage(ShardPageRequest(namespaceId: "ns", plan: plan, consistency: .readYourWrites(token: token),
                                                consistencyTimeout: .seconds(60)))
        }
        #expect(page.records.map(\.key.workflowId) == ["fresh"])
        try await indexed
        // Strong at an index nobody reaches: refused after the timeout, saying where things are.
        let started = ContinuousClock.now
        #expect {
            try shard.listPage(ShardPageRequest(namespaceId: "ns", plan: plan, consistency: .strong(index: shard.appliedIndex + 5),
                                                consistencyTimeout: .milliseconds(200)))
        } throws: { error in
            let message = "\(error)"
            return message.contains("did not reach index") && message.contains("retry, or read with eventual consistency")
        }
        #expect(ContinuousClock.now - started >= .milliseconds(200))
        #expect {
            try shard.listPage(ShardPageRequest(namespaceId: "ns", plan: plan, consistency: .readYourWrites(token: [1, 2])))
        } throws: { "\($0)".contains("invalid consistency token") }
    }
}
