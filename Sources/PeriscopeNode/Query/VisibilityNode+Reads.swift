import PeriscopeModel
import PeriscopeQuery
import PeriscopeShard

/// How fresh a query's answer must be, at the node level.
public enum QueryConsistency: Sendable, Equatable {
    case eventual
    /// Every write that returned this token (`NodeConsistencyToken`) is visible.
    case readYourWrites([UInt8])
    /// Everything acknowledged before the query arrived is visible: each shard's group
    /// confirms through its leader, with a quorum, the commit index the answer must reach
    /// (ReadIndex), so a node cut off from a majority answers nothing rather than stale data.
    case strong
}

public struct FederatedPage: Sendable {
    public var records: [VisibilityRecord]
    /// Nil on the last page.
    public var nextPageToken: [UInt8]?
    /// A shard's point in time had expired (the listing paused past the keep-alive, or the
    /// node restarted): that shard continued from its cursor at a newer point in time.
    public var pointInTimeLost: Bool
}

extension VisibilityNode {
    /// One page of a list over every shard: each shard lists a page from where its
    /// listing stands, and a k-way merge in the plan's order takes the first `pageSize`.
    /// A shard whose page was cut short continues, next time, right after the last record
    /// taken from it, at the same point in time. Blocking reads run on the executor.
    public func list(namespace: NamespaceEntry, plan: QueryPlan, pageSize: Int, pageToken: [UInt8]?,
                     consistency: QueryConsistency) async throws -> FederatedPage {
        let fingerprint = FederatedPageToken.fingerprint(of: plan)
        let states: [FederatedPageToken.ShardState]
        if let pageToken {
            states = try FederatedPageToken.open(pageToken, key: pageTokenKey, namespaceId: namespace.id, fingerprint: fingerprint,
                                                 shardCount: shardCount).shards
        } else {
            states = Array(repeating: .fromStart, count: shardCount)
        }
        let targets = try await shardConsistency(consistency, shards: states.indices.filter { states[$0] != .done })
        let requests: [Int: ShardPageRequest] = Dictionary(uniqueKeysWithValues: states.enumerated().compactMap { shard, state in
            let token: [UInt8]?
            switch state {
            case .done: return nil
            case .fromStart: token = nil
            case .after(let bytes): token = bytes
            }
            var request = ShardPageRequest(namespaceId: namespace.id, plan: plan, pageSize: pageSize, pageToken: token,
                                           consistency: targets[shard] ?? .eventual,
                                           consistencyTimeout: configuration.consistencyTimeout,
                                           scanBudget: configuration.scanBudget)
            request.keepsPointInTime = true
            return (shard, request)
        })
        let settled = await onShardsSettled(Array(requests.keys)) { shard in try self.shards[shard].listPage(requests[shard]!) }
        var pages: [Int: ShardPageResponse] = [:]
        var failure: (any Error)?
        for (shard, result) in settled {
            switch result {
            case .success(let page): pages[shard] = page
            case .failure(let error): failure = failure ?? error
            }
        }
        // Points in time this request opened and its answer will not name: released before
        // returning, on every path (each holds a RocksDB snapshot and one of a bounded
        // number of slots).
        var unneeded = pages.compactMap { shard, page in page.openedPointInTime ? (shard, page.pointInTime) : nil }
        defer { for case let (shard, id?) in unneeded { shards[shard].releasePointInTime(id) } }
        if let failure { throw failure }

        // The merge: take the smallest head while every shard that may hold more has a head
        // to compare (a shard that stopped early on its scan budget holds the merge back).
        var heads = Dictionary(uniqueKeysWithValues: pages.keys.map { ($0, 0) })
        var merged: [VisibilityRecord] = []
        merging: while merged.count < pageSize {
            var best: (shard: Int, record: VisibilityRecord)?
            for (shard, page) in pages {
                let head = heads[shard]!
                guard head < page.records.count else {
                    if page.nextPageToken != nil { break merging }
                    continue
                }
                let record = page.records[head]
                if best == nil || plan.precedes(record, best!.record) { best = (shard, record) }
            }
            guard let best else { break }
            merged.append(best.record)
            heads[best.shard]! += 1
        }

        var next = states
        var keptPointsInTime: Set<Int> = []
        for (shard, page) in pages {
            let taken = heads[shard]!
            if taken == page.records.count {
                next[shard] = page.nextPageToken.map { .after($0) } ?? .done
            } else if taken > 0 {
                next[shard] = .after(try shards[shard].pageToken(afterRecordAt: taken - 1, request: requests[shard]!, page: page))
            }
            // else untouched: its state stays (the same token, or from the start), and a
            // point in time this call opened for it is not named by anything.
            if taken > 0, case .after = next[shard] { keptPointsInTime.insert(shard) }
        }
        unneeded = pages.compactMap { shard, page in
            guard let id = page.pointInTime, !keptPointsInTime.contains(shard) else { return nil }
            // A point in time the incoming token names and the shard is still at stays.
            if !page.openedPointInTime, case .after = next[shard] { return nil }
            return (shard, id)
        }
        let finished = next.allSatisfy { $0 == .done }
        let token = finished ? nil
            : FederatedPageToken(namespaceId: namespace.id, fingerprint: fingerprint, shards: next).sealed(with: pageTokenKey)
        return FederatedPage(records: merged, nextPageToken: token, pointInTimeLost: pages.values.contains { $0.pointInTimeLost })
    }

    /// A count over every shard, summed; with GROUP BY the groups are merged by value.
    /// With `ownership`, of the executions it contains only (a federated count's part).
    public func count(namespace: NamespaceEntry, plan: QueryPlan, consistency: QueryConsistency,
                      ownership: RecordOwnership? = nil) async throws -> CountResult {
        let targets = try await shardConsistency(consistency, shards: Array(0..<shardCount))
        let counts = try await onShards(Array(0..<shardCount)) { shard in
            try self.shards[shard].awaitConsistency(targets[shard] ?? .eventual, timeout: self.configuration.consistencyTimeout)
            return try self.shards[shard].count(namespaceId: namespace.id, plan: plan, scanBudget: self.configuration.countScanBudget,
                                                ownership: ownership).result
        }
        var total = 0
        var groups: [QueryValue?: Int] = [:]
        for result in counts.values {
            total += result.total
            for group in result.groups { groups[group.value, default: 0] += group.count }
        }
        if let field = plan.groupBy, groups.count > plan.limits.groupsMax {
            throw ShardQueryError(.tooExpensive, "GROUP BY \(field.name) found more than \(plan.limits.groupsMax) groups over the "
                + "region's shards; narrow the query or group by an attribute with fewer values")
        }
        return CountResult(total: total, counts: groups)
    }

    /// One execution, or nil if it is unknown, deleted or expired.
    public func execution(_ key: ExecutionKey, consistency: QueryConsistency) async throws -> VisibilityRecord? {
        let shard = shard(of: key)
        let target = try await shardConsistency(consistency, shards: [shard])[shard] ?? .eventual
        return try await executor.run {
            try self.shards[shard].awaitConsistency(target, timeout: self.configuration.consistencyTimeout)
            return try self.shards[shard].execution(key)
        }
    }

    /// The plan each shard would use for a list or count.
    public func explain(namespace: NamespaceEntry, plan: QueryPlan) async throws -> [String] {
        let plans = try await onShards(Array(0..<shardCount)) { shard in
            try self.shards[shard].explain(namespaceId: namespace.id, plan: plan)
        }
        return (0..<shardCount).map { "shard \($0):\n" + plans[$0]! }
    }

    /// What each of `shards` must reach for `consistency`.
    func shardConsistency(_ consistency: QueryConsistency, shards: [Int]) async throws -> [Int: ReadConsistency] {
        switch consistency {
        case .eventual:
            return [:]
        case .strong:
            let indexes = try await withThrowingTaskGroup(of: (Int, UInt64).self) { tasks in
                for shard in shards { tasks.addTask { (shard, try await self.confirmedReadIndex(self.groups[shard])) } }
                return try await tasks.reduce(into: [Int: UInt64]()) { $0[$1.0] = $1.1 }
            }
            return indexes.mapValues { .strong(index: $0) }
        case .readYourWrites(let token):
            let (issuer, indexes) = try NodeConsistencyToken.parse(token, shardCount: shardCount)
            if let issuer, issuer != deployment.local.index {
                let name = deployment.region(index: issuer)?.name ?? "#\(issuer)"
                throw ShardQueryError(.invalidArgument, "invalid consistency token: region \(name) took the write it names; read it there, "
                    + "or with a federated query (this is region \(region))")
            }
            var targets: [Int: ReadConsistency] = [:]
            for (shard, index) in indexes where shards.contains(shard) {
                // A token from a write another replica applied first may be ahead of this
                // one: the leader's confirmed commit index says whether it can be real.
                var reached = reachedIndex(ofShard: shard)
                if index > reached { reached = max(reached, try await confirmedReadIndex(groups[shard])) }
                guard index <= reached else {
                    throw ShardQueryError(.invalidArgument, "invalid consistency token: it names index \(index) of shard \(shard), "
                        + "which has reached only \(reached); it was not issued by this region")
                }
                targets[shard] = .strong(index: index)
            }
            return targets
        }
    }

    /// The newest index a shard has committed or applied. A write is answered after its
    /// apply, and the group publishes its status only after answering, so the shard's own
    /// applied index is the one that is never behind an acknowledged write.
    func reachedIndex(ofShard shard: Int) -> UInt64 { max(groups[shard].status.committedIndex, shards[shard].appliedIndex) }

    /// Runs `body` for each shard concurrently on the executor's threads; every shard's
    /// result, failures included (a caller may have cleanup to do for the others).
    func onShardsSettled<T: Sendable>(_ shardIndexes: [Int], _ body: @escaping @Sendable (Int) throws -> T) async -> [Int: Result<T, any Error>] {
        await settledConcurrently(shardIndexes) { shard in try await self.executor.run { try body(shard) } }
    }

    /// Runs `body` for each shard concurrently on the executor's threads; the first failure
    /// is thrown once every shard has answered.
    func onShards<T: Sendable>(_ shardIndexes: [Int], _ body: @escaping @Sendable (Int) throws -> T) async throws -> [Int: T] {
        try await onShardsSettled(shardIndexes, body).mapValues { try $0.get() }
    }
}
