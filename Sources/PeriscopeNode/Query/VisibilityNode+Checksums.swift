import PeriscopeModel
import PeriscopeQuery
import PeriscopeShard

/// Counts and checksums of a namespace's executions per bucket of start time
/// (`AdminService.ChecksumExecutions`): what a migration's validation compares with the
/// source's own figures (docs/migration.md, "Validation").
public struct ExecutionChecksums: Sendable, Equatable {
    public struct Bucket: Sendable, Equatable {
        public var count: Int64 = 0
        /// The wrapping sum of the bucket's fingerprints: independent of order.
        public var checksum: UInt64 = 0
    }

    public struct Fingerprinted: Sendable, Equatable {
        public var workflowId: String
        public var runId: String
        public var startTime: Timestamp
        public var fingerprint: UInt64
    }

    /// Bucket number (from the range's start) → its figures; empty buckets are absent.
    public var buckets: [Int64: Bucket] = [:]
    public var executions: [Fingerprinted] = []
    public var truncated = false

    /// Most executions one call returns, and most buckets one range is cut into.
    public static let executionsMax = 100_000
    public static let bucketsMax: Int64 = 100_000

    mutating func add(_ record: VisibilityRecord, bucket: Int64, listing: Int) {
        let fingerprint = ExecutionFingerprint.fingerprint(of: record)
        buckets[bucket, default: Bucket()].count += 1
        buckets[bucket, default: Bucket()].checksum &+= fingerprint
        guard listing > 0 else { return }
        if executions.count < listing {
            executions.append(Fingerprinted(workflowId: record.key.workflowId, runId: record.key.runId, startTime: record.startTime,
                                            fingerprint: fingerprint))
        } else {
            truncated = true
        }
    }

    mutating func merge(_ other: ExecutionChecksums, listing: Int) {
        for (number, bucket) in other.buckets {
            buckets[number, default: Bucket()].count += bucket.count
            buckets[number, default: Bucket()].checksum &+= bucket.checksum
        }
        executions += other.executions
        truncated = truncated || other.truncated || executions.count > listing
        if executions.count > listing { executions.removeLast(executions.count - listing) }
    }
}

extension VisibilityNode {
    /// The figures of `namespace`'s executions started in `[from, to)`, by buckets of
    /// `bucketSeconds`, read at strong consistency shard by shard (each shard page by page,
    /// so an execution changed meanwhile may be seen before or after its change: validation
    /// checks a bucket that differs again). With `listing` > 0, also up to that many
    /// executions' fingerprints.
    public func checksums(namespace: NamespaceEntry, from: Timestamp, to: Timestamp, bucketSeconds: Int64,
                          listing: Int) async throws -> ExecutionChecksums {
        guard from < to else { throw ShardQueryError(.invalidArgument, "start_time_from \(from) is not before start_time_to \(to)") }
        guard bucketSeconds >= 1 else { throw ShardQueryError(.invalidArgument, "bucket_seconds must be at least 1, not \(bucketSeconds)") }
        let spanSeconds = (to.nanosecondsSinceEpoch / 1_000_000_000) - (from.nanosecondsSinceEpoch / 1_000_000_000)
        guard spanSeconds / bucketSeconds < ExecutionChecksums.bucketsMax else {
            throw ShardQueryError(.invalidArgument, "\(spanSeconds) s in buckets of \(bucketSeconds) s is more than "
                + "\(ExecutionChecksums.bucketsMax) buckets; widen the buckets or narrow the range")
        }
        guard (0...ExecutionChecksums.executionsMax).contains(listing) else {
            throw ShardQueryError(.invalidArgument, "executions_max must be in 0 ... \(ExecutionChecksums.executionsMax), not \(listing)")
        }
        // Every division (workflow-backed schedules included): the source's rows are all counted.
        let plan = try namespace.plan("StartTime >= '\(from.rfc3339)' AND StartTime < '\(to.rfc3339)' AND \(Query.anyDivision)", context: .list)
        let shardIndexes = Array(0..<shardCount)
        let targets = try await shardConsistency(.strong, shards: shardIndexes)
        let bucketNanoseconds = bucketSeconds.multipliedReportingOverflow(by: 1_000_000_000)
        let width = bucketNanoseconds.overflow ? Int64.max : bucketNanoseconds.partialValue
        let parts = try await onShards(shardIndexes) { shard in
            try self.shards[shard].awaitConsistency(targets[shard] ?? .eventual, timeout: self.configuration.consistencyTimeout)
            var part = ExecutionChecksums()
            var cursor: ShardCursor?
            repeat {
                let page = try self.shards[shard].list(ShardListRequest(namespaceId: namespace.id, plan: plan,
                                                                        pageSize: ShardListRequest.pageSizeMax, after: cursor,
                                                                        scanBudget: self.configuration.countScanBudget))
                for record in page.records {
                    part.add(record, bucket: (record.startTime.nanosecondsSinceEpoch - from.nanosecondsSinceEpoch) / width, listing: listing)
                }
                cursor = page.next
            } while cursor != nil
            return part
        }
        var total = ExecutionChecksums()
        for shard in shardIndexes { total.merge(parts[shard]!, listing: listing) }
        return total
    }
}
