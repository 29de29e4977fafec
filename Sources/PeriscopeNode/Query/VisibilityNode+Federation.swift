import Foundation
import PeriscopeAPI
import PeriscopeModel
import PeriscopeQuery
import PeriscopeRPC
import PeriscopeShard

/// Federated queries: a list or count over every region holding a namespace. Each region
/// answers for the executions whose newest version it wrote (the failover versions it
/// issued, `FailoverOwnership`), so every execution comes from one region; the coordinator
/// (the node asked) scatters to the regions concurrently and merges every (region, shard)
/// page k-way in the query's order, like the merge over one region's shards.
public struct FederatedListPage: Sendable {
    public var executions: [Periscope_V1_Execution]
    /// Nil on the last page.
    public var nextPageToken: [UInt8]?
    public var pointInTimeLost: Bool
    /// Regions that did not answer (allowed partial results only).
    public var missingRegions: [String]
}

extension VisibilityNode {
    /// The regions a federated query asks about `entry`, each with the executions it answers
    /// for. A namespace never failed over has written everything under failover version 0 in
    /// its first home: that region alone answers, with nothing to filter (counts stay
    /// index-only). After a failover, every region holding the namespace answers for the
    /// failover versions it issued; the home also answers for those issued by regions that
    /// no longer hold the namespace (it received their writes).
    func federationParts(of entry: NamespaceEntry) -> [(region: String, ownership: Periscope_V1_FailoverOwnership?)] {
        guard entry.failoverVersion != 0 else { return [(entry.initialHome, nil)] }
        let orphans = deployment.regions.filter { !entry.isHeld(by: $0.name) }.map(\.index)
        return entry.regions.compactMap { name in
            guard let region = deployment.region(named: name) else { return nil }
            let isHome = name == entry.homeRegion
            return (name, .with {
                $0.regionIndexes = [region.index] + (isHome ? orphans : [])
                $0.includesInitial = name == entry.initialHome || (isHome && !entry.isHeld(by: entry.initialHome))
            })
        }
    }

    static func recordOwnership(_ wire: Periscope_V1_FailoverOwnership) -> RecordOwnership {
        let issuers = Set(wire.regionIndexes)
        let initial = wire.includesInitial
        return RecordOwnership("failover versions issued by regions \(issuers.sorted())" + (initial ? " and version 0" : "")) { record in
            let issuer = DeploymentDirectory.issuer(of: record.failoverVersion)
            return issuer == 0 ? initial : issuers.contains(issuer)
        }
    }

    /// The consistency each region's part of a federated query reads with: a read-your-writes
    /// token applies in the region that took the writes (the others read eventually).
    func federatedConsistency(_ wire: Periscope_V1_ReadConsistency, for region: String) throws -> Periscope_V1_ReadConsistency {
        guard wire.level == .readYourWrites else { return wire }
        let (issuer, _) = try NodeConsistencyToken.parse(Array(wire.consistencyToken), shardCount: Int(UInt16.max))
        let issuingRegion = issuer.flatMap { deployment.region(index: $0)?.name } ?? self.region
        return issuingRegion == region ? wire : .with { $0.level = .eventual }
    }

    // MARK: One region's part

    /// A page of each asked shard of this region (empty `states`: every shard from its
    /// start), with a token after each record but the last for the coordinator's cut. Points
    /// in time are kept: the coordinator may continue any shard inside its page.
    func regionShardPages(_ request: Periscope_V1_ShardPagesRequest) async throws -> Periscope_V1_ShardPagesResponse {
        let namespace = try await self.namespace(named: request.namespace)
        let plan = try namespace.plan(request.query, context: .list)
        let pageSize = Int(request.pageSize)
        guard (1...configuration.pageSizeMax).contains(pageSize) else {
            throw ShardQueryError(.invalidArgument, "page_size \(pageSize) is outside 1 ... \(configuration.pageSizeMax)")
        }
        var tokens: [Int: [UInt8]?] = [:]
        if request.shards.isEmpty {
            for shard in 0..<shardCount { tokens[shard] = .some(nil) }
        }
        for state in request.shards {
            guard Int(state.shardID) < shardCount, tokens[Int(state.shardID)] == nil else {
                throw ShardQueryError(.invalidArgument, "shard \(state.shardID) is not a shard of region \(region) or is asked twice "
                    + "(it has shards 0 ... \(shardCount - 1))")
            }
            tokens[Int(state.shardID)] = state.pageToken.isEmpty ? .some(nil) : Array(state.pageToken)
        }
        let consistency = try VisibilityService.queryConsistency(request.consistency)
        let targets = try await shardConsistency(consistency, shards: Array(tokens.keys))
        let ownership = request.hasOwnership ? Self.recordOwnership(request.ownership) : nil
        let configuration = self.configuration
        let asked = tokens
        let results = try await onShards(Array(asked.keys)) { shard in
            var page = ShardPageRequest(namespaceId: namespace.id, plan: plan, pageSize: pageSize, pageToken: asked[shard]!,
                                        consistency: targets[shard] ?? .eventual, consistencyTimeout: configuration.consistencyTimeout,
                                        scanBudget: configuration.scanBudget)
            page.keepsPointInTime = true
            page.ownership = ownership
            let response = try self.shards[shard].listPage(page)
            let cuts = try response.records.indices.dropLast().map { try self.shards[shard].pageToken(afterRecordAt: $0, request: page, page: response) }
            return Periscope_V1_ShardPageResult.with {
                $0.shardID = UInt32(shard)
                $0.executions = response.records.map(WireConversions.wire)
                $0.nextPageToken = Data(response.nextPageToken ?? [])
                $0.cutTokens = cuts.map { Data($0) }
                $0.pointInTimeLost = response.pointInTimeLost
            }
        }
        return .with { $0.shards = results.values.sorted { $0.shardID < $1.shardID } }
    }

    /// This region's count of the executions `request.ownership` gives it.
    func regionCount(_ request: Periscope_V1_CountShardsRequest) async throws -> Periscope_V1_CountShardsResponse {
        let namespace = try await self.namespace(named: request.namespace)
        let plan = try namespace.plan(request.query, context: .count)
        let result = try await count(namespace: namespace, plan: plan, consistency: try VisibilityService.queryConsistency(request.consistency),
                                     ownership: request.hasOwnership ? Self.recordOwnership(request.ownership) : nil)
        return .with {
            $0.count = Int64(result.total)
            if plan.groupBy != nil { $0.groups = WireConversions.groups(result) }
        }
    }

    /// Which of `request.executions` this region holds in a newer version it answers for,
    /// each read as this region's listing of the query sees it (its shard's point in time).
    func regionFindNewer(_ request: Periscope_V1_FindNewerRequest) async throws -> Periscope_V1_FindNewerResponse {
        let namespace = try await self.namespace(named: request.namespace)
        let plan = try namespace.plan(request.query, context: .list)
        guard request.executions.count <= configuration.pageSizeMax * Self.findNewerPagesMax else {
            throw ShardQueryError(.invalidArgument, "at most \(configuration.pageSizeMax * Self.findNewerPagesMax) executions per call; "
                + "got \(request.executions.count)")
        }
        let ownership = Self.recordOwnership(request.ownership)
        var tokens: [Int: [UInt8]] = [:]
        for state in request.shards where Int(state.shardID) < shardCount && !state.pageToken.isEmpty {
            tokens[Int(state.shardID)] = Array(state.pageToken)
        }
        let byShard = Dictionary(grouping: request.executions.indices) { position in
            let execution = request.executions[position]
            return shard(of: ExecutionKey(namespaceId: namespace.id, workflowId: execution.workflowID, runId: execution.runID))
        }
        let asked = tokens
        let newer = try await onShards(Array(byShard.keys)) { shard in
            try byShard[shard]!.filter { position in
                let wire = request.executions[position]
                let key = ExecutionKey(namespaceId: namespace.id, workflowId: wire.workflowID, runId: wire.runID)
                guard let held = try self.shards[shard].execution(key, asListedBy: asked[shard], plan: plan), ownership.contains(held) else {
                    return false
                }
                return held.conflictVersion > ConflictVersion(failoverVersion: wire.failoverVersion, version: wire.version)
            }
        }
        return .with { $0.newer = newer.values.flatMap { $0 }.map(UInt32.init).sorted() }
    }

    /// A page's worth of executions of every region, the most one `FindNewer` checks.
    static let findNewerPagesMax = 16

    // MARK: The coordinator

    /// One page of a federated list.
    public func federatedList(namespace: NamespaceEntry, query: String, plan: QueryPlan, pageSize: Int, pageToken: [UInt8]?,
                              consistency: Periscope_V1_ReadConsistency, allowPartial: Bool) async throws -> FederatedListPage {
        let fingerprint = FederatedPageToken.fingerprint(of: plan)
        let parts = federationParts(of: namespace)
        var states: [String: [FederatedPageToken.ShardState]] = [:]
        if let pageToken {
            states = try DeploymentPageToken.open(pageToken, key: deploymentTokenKey, namespaceId: namespace.id, fingerprint: fingerprint,
                                                  failoverVersion: namespace.failoverVersion).regions
            guard Set(states.keys) == Set(parts.map(\.region)) else {
                throw ShardQueryError(.invalidArgument, "invalid page token: it was issued when regions \(states.keys.sorted()) answered for "
                    + "the namespace; now \(parts.map(\.region).sorted()) do (its regions changed): list again from the first page")
            }
        }
        let known = states
        // A region's states are empty while it has not answered yet (its shard count unknown).
        let answers = await scatter(parts.filter { part in known[part.region].map { $0.isEmpty || !$0.allSatisfy { $0 == .done } } ?? true }) { part in
            try await self.regionPart(part.region, try .with {
                $0.deploymentID = self.deployment.id
                $0.namespace = namespace.name
                $0.query = query
                $0.pageSize = UInt32(pageSize)
                $0.consistency = try self.federatedConsistency(consistency, for: part.region)
                if let ownership = part.ownership { $0.ownership = ownership }
                if let regionStates = known[part.region], !regionStates.isEmpty {
                    $0.shards = regionStates.enumerated().compactMap { shard, state in
                        switch state {
                        case .done: nil
                        case .fromStart: .with { $0.shardID = UInt32(shard) }
                        case .after(let token): .with { $0.shardID = UInt32(shard); $0.pageToken = Data(token) }
                        }
                    }
                }
            })
        }
        let missing = try missingRegions(answers, allowPartial: allowPartial)
        var streams: [MergeStream] = []
        for (region, answer) in answers {
            guard case .success(let response) = answer else { continue }
            if states[region]?.isEmpty ?? true {
                states[region] = Array(repeating: .fromStart, count: (response.shards.map { Int($0.shardID) }.max() ?? -1) + 1)
            }
            for page in response.shards {
                guard Int(page.shardID) < states[region]!.count, page.cutTokens.count == max(0, page.executions.count - 1) else {
                    throw RPCStatus(.internalError, "region \(region) answered a malformed page for shard \(page.shardID)")
                }
                streams.append(MergeStream(region: region, page: page,
                                           records: try page.executions.map { try Self.mergeKey($0, namespaceId: namespace.id) }))
            }
        }
        try await dropSuperseded(&streams, namespace: namespace, query: query, parts: parts, states: known, missing: missing)
        let merged = Self.merge(&streams, plan: plan, pageSize: pageSize)
        for stream in streams {
            let taken = stream.taken
            let shard = Int(stream.page.shardID)
            if taken == stream.records.count {
                states[stream.region]![shard] = stream.page.nextPageToken.isEmpty ? .done : .after(Array(stream.page.nextPageToken))
            } else if taken > 0 {
                states[stream.region]![shard] = .after(Array(stream.page.cutTokens[taken - 1]))
            }
        }
        for part in parts where states[part.region] == nil { states[part.region] = [] }
        let token = DeploymentPageToken(namespaceId: namespace.id, fingerprint: fingerprint, failoverVersion: namespace.failoverVersion,
                                        regions: states)
        return FederatedListPage(executions: merged,
                                 nextPageToken: token.isFinished ? nil : token.sealed(with: deploymentTokenKey),
                                 pointInTimeLost: streams.contains { $0.page.pointInTimeLost }, missingRegions: missing)
    }

    /// A federated count: each region's count of what it answers for, summed; groups merged by value.
    public func federatedCount(namespace: NamespaceEntry, query: String, plan: QueryPlan, consistency: Periscope_V1_ReadConsistency,
                               allowPartial: Bool) async throws -> (count: Int64, groups: [Periscope_V1_AggregationGroup], missing: [String]) {
        let answers = await scatter(federationParts(of: namespace)) { part in
            let request = try Periscope_V1_CountShardsRequest.with {
                $0.deploymentID = self.deployment.id
                $0.namespace = namespace.name
                $0.query = query
                $0.consistency = try self.federatedConsistency(consistency, for: part.region)
                if let ownership = part.ownership { $0.ownership = ownership }
            }
            return part.region == self.region ? try await self.regionCount(request)
                : try await self.links.call(part.region, RegionPeerMethods.countShards, request, timeout: self.configuration.federationTimeout)
        }
        let missing = try missingRegions(answers, allowPartial: allowPartial)
        var total: Int64 = 0
        var groups: [Data: Periscope_V1_AggregationGroup] = [:]
        for case .success(let response) in answers.values {
            total += response.count
            for group in response.groups {
                let key = (try? Periscope_V1_AggregationGroup.with { $0.groupValues = group.groupValues }.serializedData()) ?? Data()
                groups[key, default: .with { $0.groupValues = group.groupValues }].count += group.count
            }
        }
        if let field = plan.groupBy, groups.count > plan.limits.groupsMax {
            throw ShardQueryError(.tooExpensive, "GROUP BY \(field.name) found more than \(plan.limits.groupsMax) groups over the "
                + "deployment's regions; narrow the query or group by an attribute with fewer values")
        }
        return (total, groups.values.sorted { $0.count != $1.count ? $0.count > $1.count : "\($0.groupValues)" < "\($1.groupValues)" }, missing)
    }

    /// Marks the records that are stale copies: written under an older failover version by
    /// one region, while another region holds a newer version it answers for (an old home
    /// that has not yet received what a newer home wrote). Each such region is asked once
    /// per page, about every other region's records of older failover eras, as its own
    /// listing sees them; a region that cannot be asked leaves the copies be (at worst an
    /// execution is returned twice, never lost). Nothing to ask for a namespace never failed over.
    private func dropSuperseded(_ streams: inout [MergeStream], namespace: NamespaceEntry, query: String,
                                parts: [(region: String, ownership: Periscope_V1_FailoverOwnership?)],
                                states: [String: [FederatedPageToken.ShardState]], missing: [String]) async throws {
        let older = streams.indices.flatMap { stream in
            streams[stream].records.indices.filter { streams[stream].records[$0].failoverVersion < namespace.failoverVersion }.map { (stream, $0) }
        }
        let checkers = parts.filter { $0.ownership != nil && !missing.contains($0.region) }
        guard !older.isEmpty, checkers.count > 1 else { return }
        let pages = streams
        let found = await scatter(checkers) { part in
            let asked = older.filter { pages[$0.0].region != part.region }
            guard !asked.isEmpty else { return [(Int, Int)]() }
            let request = Periscope_V1_FindNewerRequest.with {
                $0.deploymentID = self.deployment.id
                $0.namespace = namespace.name
                $0.query = query
                $0.ownership = part.ownership!
                $0.shards = (states[part.region] ?? []).enumerated().compactMap { shard, state in
                    guard case .after(let token) = state else { return nil }
                    return .with { $0.shardID = UInt32(shard); $0.pageToken = Data(token) }
                }
                $0.executions = asked.map { stream, position in
                    let record = pages[stream].records[position]
                    return .with {
                        $0.workflowID = record.key.workflowId
                        $0.runID = record.key.runId
                        $0.failoverVersion = record.failoverVersion
                        $0.version = record.version
                    }
                }
            }
            let answer = part.region == self.region ? try await self.regionFindNewer(request)
                : try await self.links.call(part.region, RegionPeerMethods.findNewer, request, timeout: self.configuration.federationTimeout)
            return answer.newer.compactMap { Int($0) < asked.count ? asked[Int($0)] : nil }
        }
        for (region, answer) in found {
            switch answer {
            case .success(let superseded):
                for (stream, position) in superseded { streams[stream].superseded.insert(position) }
            case .failure(let error):
                logger.notice("a federated page could not ask a region for newer versions; stale copies may be returned", metadata: [
                    "region": "\(region)", "namespace": "\(namespace.name)", "error": "\(error)",
                ])
            }
        }
    }

    /// This region's part answered here, another's asked of it within the federation timeout.
    private func regionPart(_ region: String, _ request: Periscope_V1_ShardPagesRequest) async throws -> Periscope_V1_ShardPagesResponse {
        if region == self.region { return try await regionShardPages(request) }
        return try await links.call(region, RegionPeerMethods.listShardPages, request, timeout: configuration.federationTimeout)
    }

    /// Runs `body` for every part concurrently; every region's result.
    private func scatter<T: Sendable>(_ parts: [(region: String, ownership: Periscope_V1_FailoverOwnership?)],
                                      _ body: @escaping @Sendable ((region: String, ownership: Periscope_V1_FailoverOwnership?)) async throws -> T)
        async -> [String: Result<T, any Error>] {
        let byRegion = Dictionary(parts.map { ($0.region, $0) }, uniquingKeysWith: { first, _ in first })
        return await settledConcurrently(parts.map(\.region)) { region in try await body(byRegion[region]!) }
    }

    /// The regions that did not answer, when partial results are allowed; otherwise the
    /// first failure, naming its region. A region's refusal (a bad query, an unknown
    /// namespace there) always fails the call: leaving it out would hide a real error.
    private func missingRegions<T>(_ answers: [String: Result<T, any Error>], allowPartial: Bool) throws -> [String] {
        var missing: [String] = []
        for (region, answer) in answers.sorted(by: { $0.key < $1.key }) {
            guard case .failure(let error) = answer else { continue }
            let status = StatusMapping.status(for: error)
            let unreachable = status.code == .unavailable || status.code == .deadlineExceeded
            if unreachable && allowPartial {
                missing.append(region)
                continue
            }
            if region == self.region { throw error }
            throw RPCStatus(status.code, unreachable
                ? "region \(region) could not be reached or did not answer the federated query within "
                    + "\(configuration.federationTimeout) (\(status.message)); "
                    + "retry, query region by region, or allow partial results"
                : "region \(region): \(status.message)")
        }
        return missing
    }

    // MARK: The merge

    struct MergeStream {
        let region: String
        let page: Periscope_V1_ShardPageResult
        /// The page's executions as records, for the plan's order and the conflict rule.
        let records: [VisibilityRecord]
        var taken = 0
        /// Records another region holds a newer version of: passed over, never returned.
        var superseded: Set<Int> = []
    }

    static func mergeKey(_ wire: Periscope_V1_Execution, namespaceId: String) throws -> VisibilityRecord {
        var record = try WireConversions.record(wire, namespaceId: namespaceId)
        record.failoverVersion = wire.failoverVersion
        return record
    }

    /// Takes the smallest head while every stream that may hold more has a head to compare,
    /// passing over superseded records. An execution two regions return anyway (a region
    /// that could not be asked) is kept once in a page, in its newer version.
    static func merge(_ streams: inout [MergeStream], plan: QueryPlan, pageSize: Int) -> [Periscope_V1_Execution] {
        var merged: [(record: VisibilityRecord, wire: Periscope_V1_Execution)] = []
        var seen: [ExecutionKey: Int] = [:]
        merging: while merged.count < pageSize {
            var best: Int?
            for (index, stream) in streams.enumerated() {
                guard stream.taken < stream.records.count else {
                    if !stream.page.nextPageToken.isEmpty { break merging }
                    continue
                }
                if best.map({ plan.precedes(stream.records[stream.taken], streams[$0].records[streams[$0].taken]) }) ?? true { best = index }
            }
            guard let best else { break }
            let position = streams[best].taken
            let record = streams[best].records[position]
            let wire = streams[best].page.executions[position]
            streams[best].taken += 1
            if streams[best].superseded.contains(position) { continue }
            if let earlier = seen[record.key] {
                if merged[earlier].record.conflictVersion < record.conflictVersion { merged[earlier] = (record, wire) }
                continue
            }
            seen[record.key] = merged.count
            merged.append((record, wire))
        }
        return merged.map(\.wire)
    }
}
