import PeriscopeModel
import PeriscopeQuery
import PeriscopeStorage

/// How fresh a query's answer must be.
public enum ReadConsistency: Sendable, Equatable {
    /// What the indexes hold now (they may lag recent writes).
    case eventual
    /// Wait (bounded) until the indexes cover the write that returned this token.
    case readYourWrites(token: [UInt8])
    /// Wait (bounded) until the indexes reach this applied index, e.g. the commit index a
    /// ReadIndex returned.
    case strong(index: UInt64)
}

/// A token a write returns: the applied index that holds it. Not secret (a forged one can
/// only make its own reader wait), but checked: malformed bytes are refused.
public enum ConsistencyToken {
    static let formatV1: UInt8 = 1

    public static func make(index: UInt64) -> [UInt8] { [formatV1] + bigEndian(index) }

    static func index(of token: [UInt8]) throws(ShardQueryError) -> UInt64 {
        guard token.count == 9, token[0] == formatV1, let index = try? readFixed(Array(token.dropFirst()), what: "consistency token")
        else { throw ShardQueryError(.invalidArgument, "invalid consistency token: expected 9 bytes of format 1, got \(token.count) bytes") }
        return index
    }
}

public struct ShardPageRequest: Sendable {
    public var namespaceId: String
    public var plan: QueryPlan
    public var pageSize: Int
    /// The previous page's `nextPageToken`; nil for the first page.
    public var pageToken: [UInt8]?
    public var consistency: ReadConsistency
    /// How long a read-your-writes or strong read waits for the indexes at most.
    public var consistencyTimeout: Duration
    public var scanBudget: Int
    public var limits: PlannerLimits
    /// Keep the point in time after the last page too, for `pageToken(after:request:page:)`:
    /// a caller merging several shards' pages may use only part of a last page. The caller
    /// then releases it (`releasePointInTime`), or it expires after the keep-alive.
    public var keepsPointInTime = false
    /// When set, only the executions it contains are listed (a federated query's part).
    public var ownership: RecordOwnership?

    public init(namespaceId: String, plan: QueryPlan, pageSize: Int = 100, pageToken: [UInt8]? = nil,
                consistency: ReadConsistency = .eventual, consistencyTimeout: Duration = .seconds(5),
                scanBudget: Int = 100_000, limits: PlannerLimits = PlannerLimits()) {
        self.namespaceId = namespaceId
        self.plan = plan
        self.pageSize = pageSize
        self.pageToken = pageToken
        self.consistency = consistency
        self.consistencyTimeout = consistencyTimeout
        self.scanBudget = scanBudget
        self.limits = limits
    }
}

public struct ShardPageResponse: Sendable {
    public var records: [VisibilityRecord]
    /// Nil on the last page.
    public var nextPageToken: [UInt8]?
    /// The page token's point in time was gone (expired, the shard restarted, another
    /// replica answered): this page continued from the cursor at a new point in time, so
    /// executions changed since may be missed or seen twice.
    public var pointInTimeLost: Bool
    public var budgetExhausted: Bool
    /// The indexes' watermark when the page was read.
    public var watermark: UInt64
    public var explain: String
    /// The point in time this page was read at, if it is kept.
    public var pointInTime: PointInTimeID?
    /// Whether this call opened `pointInTime` (rather than reading the one its token named):
    /// a caller that does not keep this page's state must release it.
    public var openedPointInTime: Bool
    /// Where each record was read (default order), for `pageToken(afterRecordAt:…)`.
    var positions: [[UInt8]]
}

extension Shard {
    /// A page of a list, continued by opaque, signed page tokens. Every page of one listing
    /// reads the same point in time (a snapshot kept for the keep-alive), so no execution
    /// is skipped or repeated while writes continue. **Blocks** (also while waiting for
    /// the consistency asked for).
    public func listPage(_ request: ShardPageRequest) throws -> ShardPageResponse {
        guard let key = configuration.pageTokenKey else {
            throw ShardQueryError(.invalidArgument, "this shard has no page token key; paging is off")
        }
        let fingerprint = PageToken.fingerprint(of: request.plan)
        var cursor: ShardCursor?
        var snapshot: Snapshot?
        var pointInTime: PointInTimeID?
        var lost = false
        if let bytes = request.pageToken {
            let token = try PageToken.open(bytes, key: key, namespaceId: request.namespaceId, fingerprint: fingerprint)
            cursor = token.cursor
            if let id = token.pointInTime {
                snapshot = pointsInTime.snapshot(id)
                pointInTime = snapshot == nil ? nil : id
                lost = snapshot == nil
            }
        } else {
            try awaitConsistency(request.consistency, timeout: request.consistencyTimeout)
        }
        let readAt = try snapshot ?? database.makeSnapshot()
        var listing = ShardListRequest(namespaceId: request.namespaceId, plan: request.plan, pageSize: request.pageSize,
                                       after: cursor, scanBudget: request.scanBudget, limits: request.limits)
        listing.ownership = request.ownership
        let page = try list(listing, snapshot: readAt)
        var nextToken: [UInt8]?
        var opened = false
        if page.next != nil || request.keepsPointInTime {
            if pointInTime == nil {
                pointInTime = pointsInTime.open(readAt)
                opened = true
            }
        } else if let id = pointInTime {
            pointsInTime.release(id)
            pointInTime = nil
        }
        if let next = page.next {
            nextToken = PageToken(namespaceId: request.namespaceId, fingerprint: fingerprint, cursor: next, pointInTime: pointInTime)
                .sealed(with: key)
        }
        return ShardPageResponse(records: page.records, nextPageToken: nextToken, pointInTimeLost: lost,
                                 budgetExhausted: page.budgetExhausted, watermark: page.watermark, explain: page.explain,
                                 pointInTime: pointInTime, openedPointInTime: opened, positions: page.positions)
    }

    /// A token that continues `request`'s listing right after `page.records[index]`, at the
    /// same point in time: a caller merging several shards' pages cuts a page where its
    /// merged page ended. The cursor is where the shard read that record (its index
    /// position, or its sort values with ORDER BY), exactly as the shard's own next token
    /// would be had the page ended there.
    public func pageToken(afterRecordAt index: Int, request: ShardPageRequest, page: ShardPageResponse) throws -> [UInt8] {
        guard let key = configuration.pageTokenKey else {
            throw ShardQueryError(.invalidArgument, "this shard has no page token key; paging is off")
        }
        precondition(page.records.indices.contains(index), "no record \(index) in a page of \(page.records.count)")
        let cursor: ShardCursor
        if request.plan.orderBy.isEmpty {
            cursor = .position(page.positions[index])
        } else {
            cursor = .sortValues(request.plan.sortValues(of: page.records[index]))
        }
        return PageToken(namespaceId: request.namespaceId, fingerprint: PageToken.fingerprint(of: request.plan), cursor: cursor,
                         pointInTime: page.pointInTime).sealed(with: key)
    }

    /// An execution as a listing of `plan` sees it: at the point in time `pageToken` names if
    /// it is still held (the snapshot that listing reads), else at the current state. A
    /// federated query asks whether a region's listing holds a newer version of an execution
    /// another region returned. **Blocks.**
    public func execution(_ key: ExecutionKey, asListedBy pageToken: [UInt8]?, plan: QueryPlan) throws -> VisibilityRecord? {
        var options = ReadOptions()
        if let pageToken, let tokenKey = configuration.pageTokenKey,
           let token = try? PageToken.open(pageToken, key: tokenKey, namespaceId: key.namespaceId, fingerprint: PageToken.fingerprint(of: plan)),
           let id = token.pointInTime, let snapshot = pointsInTime.snapshot(id) {
            options = ReadOptions(snapshot: snapshot)
        }
        return try execution(key, options: options)
    }

    /// Lets go of a point in time a caller kept (`keepsPointInTime`) and no longer needs.
    public func releasePointInTime(_ id: PointInTimeID) { pointsInTime.release(id) }

    /// Points in time held for paging now.
    public var pointsInTimeOpen: Int { pointsInTime.count }

    /// Waits until the indexes reach what `consistency` asks for.
    public func awaitConsistency(_ consistency: ReadConsistency, timeout: Duration) throws {
        let target: UInt64
        switch consistency {
        case .eventual: return
        case .readYourWrites(let token): target = try ConsistencyToken.index(of: token)
        case .strong(let index): target = index
        }
        let reached = indexProgress.wait(for: target, timeout: timeout)
        guard reached >= target else {
            throw ShardQueryError(.unavailable, "the indexes did not reach index \(target) within \(timeout) "
                + "(they are at \(reached), applied \(appliedIndex)); retry, or read with eventual consistency")
        }
    }
}
