import Foundation
import PeriscopeAPI
import PeriscopeModel
import PeriscopeRPC
import PeriscopeShard
import Synchronization

/// The source side of replication between regions: serves another region's subscription to
/// one shard from this node's replica of it. It streams the outbox after the subscriber's
/// cursor (the writes this region accepted, of the namespaces the subscriber holds) as the
/// shard applies them, at most `replicationWindowBatches` unacknowledged; sends a heartbeat
/// with the lag when there is nothing to send; and tells a subscriber whose cursor is
/// behind what the outbox keeps to backfill instead.
struct ReplicationSource {
    let node: VisibilityNode

    /// The namespaces `target` holds, by id, as this region's catalog says now.
    static func heldNamespaceIds(by target: String, in catalog: NamespaceCatalog) -> Set<String> {
        Set(catalog.namespaces.filter { $0.isHeld(by: target) }.map(\.id))
    }

    /// Checks what every call from another region carries: this deployment, a region of it
    /// other than this one, not cut off by fault injection, and a shard that exists.
    func checkCaller(deployment: String, region: String, shard: UInt32? = nil) throws -> Int? {
        try checkDeployment(deployment)
        guard node.deployment.region(named: region) != nil, region != node.region else {
            throw RPCStatus(.invalidArgument, "region '\(region)' is not another region of the deployment (regions: "
                + "\(node.deployment.names.joined(separator: ", ")))")
        }
        try node.links.checkReachable(region)
        guard let shard else { return nil }
        guard Int(shard) < node.shardCount else {
            throw RPCStatus(.invalidArgument, "shard \(shard) does not exist; the region has shards 0 ... \(node.shardCount - 1)")
        }
        return Int(shard)
    }

    /// A call from a region of another deployment (or from no region at all) is refused.
    func checkDeployment(_ deployment: String) throws(RPCStatus) {
        guard deployment == node.deployment.id else {
            throw RPCStatus(.permissionDenied, "this node belongs to deployment \(node.deployment.id), not '\(deployment)'")
        }
    }

    func subscribe(_ requests: RPCRequestStream<Periscope_V1_ReplicationAck>,
                   _ responses: RPCResponseWriter<Periscope_V1_ReplicationBatch>) async throws {
        var incoming = requests.makeAsyncIterator()
        guard let first = try await incoming.next(), first.hasSubscription else {
            throw RPCStatus(.invalidArgument, "a subscription's first message names it (subscription is missing)")
        }
        let subscription = first.subscription
        let shard = try checkCaller(deployment: subscription.deploymentID, region: subscription.targetRegion, shard: subscription.shardID)!
        let target = subscription.targetRegion
        let stream = SubscriptionStream(after: subscription.after)
        let acknowledgements = HandedOver(incoming)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                // Acknowledgements, one per batch in order: each frees a place in the window.
                while let ack = try await acknowledgements.value.next() {
                    try stream.acknowledge(ack)
                    node.applied[shard].ring()
                }
                throw RPCStatus(.cancelled, "the subscriber ended its stream")
            }
            tasks.addTask { try await send(shard: shard, to: target, stream: stream, responses) }
            try await tasks.next()
            tasks.cancelAll()
        }
    }

    private func send(shard: Int, to target: String, stream: SubscriptionStream,
                      _ responses: RPCResponseWriter<Periscope_V1_ReplicationBatch>) async throws {
        let configuration = node.configuration
        // The first pass sends a batch or a heartbeat at once: the subscriber learns the stream is up.
        var lastSent = ContinuousClock.now - .seconds(1)
        // The outbox has been read through here; what was read past `stream.sent` holds nothing
        // for the target (writes of namespaces it does not hold), and is sent as progress alone
        // at most every `progressInterval`: a batch per write would cost both regions as much as
        // the replication itself.
        var scanned = stream.sent
        while !Task.isCancelled {
            try node.links.checkReachable(target)
            let seen = node.applied[shard].rings
            if stream.unacknowledged < configuration.replicationWindowBatches {
                let after = scanned
                let read = try await node.executor.run {
                    try node.shards[shard].outbox(after: after, entriesMax: configuration.replicationBatchEntriesMax,
                                                  bytesMax: configuration.replicationBatchBytesMax)
                }
                if after < read.trimmedThrough {
                    try await responses.send(.with {
                        $0.backfillNeeded = true
                        $0.through = stream.sent
                        $0.sourceApplied = read.appliedIndex
                    })
                    node.logger.info("a subscriber is behind this shard's outbox: it backfills", metadata: [
                        "region": "\(target)", "shard": "\(shard)", "cursor": "\(stream.sent)", "trimmed_through": "\(read.trimmedThrough)",
                    ])
                    return
                }
                let through = read.more ? (read.entries.last?.index ?? after) : max(after, read.appliedIndex, read.entries.last?.index ?? 0)
                let held = Self.heldNamespaceIds(by: target, in: node.catalog)
                let entries = read.entries.compactMap { Self.wire($0, holding: held) }
                scanned = max(scanned, through)
                if !entries.isEmpty || (scanned > stream.sent && ContinuousClock.now - lastSent >= Self.progressInterval) {
                    try await responses.send(.with {
                        $0.entries = entries
                        $0.through = scanned
                        $0.sourceApplied = read.appliedIndex
                    })
                    stream.didSend(through: scanned)
                    lastSent = .now
                }
                if read.more { continue }
            }
            if ContinuousClock.now - lastSent >= .seconds(1) {
                try await responses.send(try await heartbeat(shard: shard, to: target, after: stream.acknowledgedThrough))
                lastSent = .now
            }
            // Woken by the shard applying entries or an acknowledgement; at the latest for
            // progress not sent yet, or for the heartbeat.
            await node.applied[shard].wait(after: seen, timeout: scanned > stream.sent ? Self.progressInterval : .seconds(1))
        }
    }

    /// Progress without writes for the target (the cursor moving past other namespaces'
    /// writes) is sent at most this often.
    static let progressInterval: Duration = .milliseconds(100)

    /// The entry's writes of namespaces `held` has, encoded as the subscriber applies them;
    /// nil if none is.
    static func wire(_ entry: OutboxEntry, holding held: Set<String>) -> Periscope_V1_ReplicatedEntry? {
        let kept = entry.commands.filter { held.contains($0.executionKey?.namespaceId ?? "") }
        guard !kept.isEmpty else { return nil }
        return .with {
            $0.index = entry.index
            $0.originTimeNanos = entry.originTime.nanosecondsSinceEpoch
            $0.commands = Data(ShardCommand.replicable(originTime: entry.originTime, kept).encoded())
        }
    }

    /// How old the oldest write the subscriber has not received is (a batch is acknowledged
    /// once the subscriber's Raft log holds its writes), overall and by namespace, from a
    /// bounded look at the outbox after what it acknowledged.
    private func heartbeat(shard: Int, to target: String, after cursor: UInt64) async throws -> Periscope_V1_ReplicationBatch {
        let held = Self.heldNamespaceIds(by: target, in: node.catalog)
        let read = try await node.executor.run {
            try node.shards[shard].outbox(after: cursor, entriesMax: Self.lagScanEntriesMax, bytesMax: .max)
        }
        var oldest: Int64 = 0
        var byNamespace: [String: Int64] = [:]
        for entry in read.entries {
            for command in entry.commands {
                guard let namespace = command.executionKey?.namespaceId, held.contains(namespace) else { continue }
                if oldest == 0 { oldest = entry.originTime.nanosecondsSinceEpoch }
                if byNamespace[namespace] == nil { byNamespace[namespace] = entry.originTime.nanosecondsSinceEpoch }
            }
        }
        return .with {
            $0.through = 0
            $0.sourceApplied = read.appliedIndex
            $0.oldestPendingNanos = oldest
            $0.oldestPendingByNamespace = byNamespace
        }
    }

    /// Outbox entries a heartbeat looks at for the lag (a subscriber further behind is
    /// shown behind by at least the age of the first of them).
    static let lagScanEntriesMax = 1_000

    // MARK: Backfill

    /// Streams the shard's executions of the namespaces asked (or every namespace the target
    /// holds) as this replica holds them at one snapshot, in chunks of about one batch.
    func backfill(_ request: Periscope_V1_BackfillRequest, _ responses: RPCResponseWriter<Periscope_V1_BackfillChunkMessage>) async throws {
        let shard = try checkCaller(deployment: request.deploymentID, region: request.targetRegion, shard: request.shardID)!
        let held = Self.heldNamespaceIds(by: request.targetRegion, in: node.catalog)
        let namespaces = request.namespaceIds.isEmpty ? held : Set(request.namespaceIds).intersection(held)
        let configuration = node.configuration
        let snapshot = try await node.executor.run { try node.shards[shard].beginBackfill() }
        defer { node.shards[shard].endBackfill(snapshot) }
        var after: [UInt8]?
        repeat {
            try node.links.checkReachable(request.targetRegion)
            let resume = after
            let chunk = try await node.executor.run {
                try node.shards[shard].backfillChunk(snapshot, namespaceIds: namespaces, after: resume,
                                                     limit: configuration.replicationBatchEntriesMax, bytesMax: configuration.replicationBatchBytesMax)
            }
            after = chunk.resumeAfter
            try await responses.send(.with {
                $0.commands = Data(ShardCommand.batch(chunk.commands).encoded())
                $0.snapshotIndex = snapshot.appliedIndex
                $0.last = chunk.resumeAfter == nil
                if chunk.resumeAfter == nil { $0.namespaceIds = namespaces.sorted() }
            })
        } while after != nil
    }
}

/// A value handed to one child task that alone uses it from then on (a stream's iterator,
/// whose first message the handler read): @unchecked, as no two tasks ever touch it.
final class HandedOver<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// One subscription's flow control: what was sent, what the subscriber acknowledged.
private final class SubscriptionStream: Sendable {
    private struct State {
        var sent: UInt64
        var acknowledgedThrough: UInt64
        var sentBatches = 0
        var acknowledgedBatches = 0
    }
    private let state: Mutex<State>

    init(after cursor: UInt64) { state = Mutex(State(sent: cursor, acknowledgedThrough: cursor)) }

    var sent: UInt64 { state.withLock { $0.sent } }
    var acknowledgedThrough: UInt64 { state.withLock { $0.acknowledgedThrough } }
    var unacknowledged: Int { state.withLock { $0.sentBatches - $0.acknowledgedBatches } }

    func didSend(through: UInt64) {
        state.withLock {
            $0.sent = through
            $0.sentBatches += 1
        }
    }

    func acknowledge(_ ack: Periscope_V1_ReplicationAck) throws {
        try state.withLock { state in
            guard state.acknowledgedBatches < state.sentBatches, ack.through <= state.sent, ack.durableCursor <= ack.through else {
                throw RPCStatus(.invalidArgument, "acknowledgement of \(ack.through) (durable \(ack.durableCursor)) does not match a batch "
                    + "sent (\(state.sentBatches - state.acknowledgedBatches) unacknowledged, sent through \(state.sent))")
            }
            state.acknowledgedBatches += 1
            state.acknowledgedThrough = max(state.acknowledgedThrough, ack.through)
        }
    }
}
