import Foundation
import PeriscopeAPI
import PeriscopeModel
import PeriscopeRPC
import PeriscopeShard

/// The target side of replication between regions: while this node leads shard `shard`, it
/// subscribes to the same shard of region `source` from the durable cursor the shard keeps,
/// and proposes each batch of the source's writes to its own group (a `replicated` entry,
/// which moves the cursor in the same apply), acknowledging it once committed. A cursor
/// behind the source's outbox is caught up by a backfill first. Reconnects with backoff;
/// returns when this node no longer leads the shard.
struct ReplicationSubscriber {
    let node: VisibilityNode
    let source: DeploymentRegion
    let shard: Int

    private var group: ReplicaGroup<Shard> { node.groups[shard] }
    private var isLeader: Bool { group.status.leader == node.nodeID }

    func run() async {
        var backoff: Duration = .milliseconds(50)
        var preferred: RPCEndpoint?
        while !Task.isCancelled, isLeader {
            do {
                preferred = try await streamOnce(preferring: preferred) { backoff = .milliseconds(50) }
            } catch is CancellationError {
                break
            } catch ReplicationError.notLeader, ReplicationError.leadershipLost {
                break
            } catch {
                preferred = nil
                let why = "\(error)"
                node.replication.updateInbound(from: source.name, shard: shard) { $0.phase = .connecting(why) }
                node.logger.debug("replication stream down", metadata: ["source": "\(source.name)", "shard": "\(shard)", "error": "\(error)"])
                if case let status as RPCStatus = error, status.code == .unavailable { await node.links.refreshMembers(of: source.name) }
                try? await Task.sleep(for: backoff * Double.random(in: 0.5...1))
                backoff = min(backoff * 2, .seconds(2))
            }
        }
        node.replication.endInbound(from: source.name, shard: shard)
    }

    /// One subscription, until it fails or this node stops leading; returns the node that
    /// served it (asked first next time).
    private func streamOnce(preferring preferred: RPCEndpoint?, onFirstBatch: () -> Void) async throws -> RPCEndpoint? {
        let cursor = node.shards[shard].replicationCursor(from: source.index)
        node.replication.updateInbound(from: source.name, shard: shard) { stream in
            stream.received = max(stream.received, cursor)
            stream.phase = .connecting("subscribing after \(cursor)")
        }
        let (client, endpoint) = try await node.links.client(for: source.name, preferring: preferred)
        let needsBackfill = try await client.bidirectionalStreaming(RegionPeerMethods.subscribe) { requests, batches in
            try await requests.send(.with {
                $0.subscription = .with {
                    $0.deploymentID = node.deployment.id
                    $0.targetRegion = node.region
                    $0.shardID = UInt32(shard)
                    $0.after = cursor
                }
            })
            var durable = cursor
            var received = cursor
            var lastDurableMove = ContinuousClock.now
            var first = true
            for try await batch in batches {
                try node.links.checkReachable(source.name)
                guard isLeader else { throw ReplicationError.notLeader(group: group.id, leader: group.status.leader) }
                if first {
                    onFirstBatch()
                    first = false
                }
                if batch.backfillNeeded { return true }
                noteContact(batch)
                if batch.through == 0 {
                    // A heartbeat: the source has nothing newer. A cursor that batches without
                    // writes moved is made durable now, so that a planned failover's drain (which
                    // waits for durable cursors past its fences) never waits on writes that will
                    // not come.
                    if received > durable {
                        try await apply([], through: received)
                        durable = received
                        lastDurableMove = .now
                        node.replication.updateInbound(from: source.name, shard: shard) { $0.received = durable }
                    }
                    continue
                }
                guard batch.through > received else {
                    throw RPCStatus(.invalidArgument, "region \(source.name) sent a batch through \(batch.through), not past \(received)")
                }
                let commands = try Self.commands(of: batch, from: source.name)
                if !commands.isEmpty {
                    try await apply(commands, through: batch.through)
                    durable = batch.through
                    lastDurableMove = .now
                } else if batch.through - durable >= Self.durableLagEntriesMax || ContinuousClock.now - lastDurableMove >= .seconds(1) {
                    // Nothing to write, but the cursor is moved durably now and then: a
                    // subscriber that restarts asks for less, and the source can trim its outbox.
                    try await apply([], through: batch.through)
                    durable = batch.through
                    lastDurableMove = .now
                }
                received = batch.through
                node.replication.updateInbound(from: source.name, shard: shard) { $0.received = durable }
                try await requests.send(.with {
                    $0.through = batch.through
                    $0.durableCursor = durable
                })
            }
            throw RPCStatus(.unavailable, "region \(source.name) ended the stream")
        }
        if needsBackfill { try await ReplicationBackfill(node: node, source: source, shard: shard).runFull() }
        return endpoint
    }

    private func noteContact(_ batch: Periscope_V1_ReplicationBatch) {
        node.replication.updateInbound(from: source.name, shard: shard) { stream in
            stream.phase = .streaming
            stream.lastContact = .now
            stream.sourceApplied = max(stream.sourceApplied, batch.sourceApplied)
            if batch.through == 0 {
                stream.oldestPending = batch.oldestPendingNanos == 0 ? nil : Timestamp(nanosecondsSinceEpoch: batch.oldestPendingNanos)
                stream.oldestPendingByNamespace = batch.oldestPendingByNamespace.mapValues(Timestamp.init(nanosecondsSinceEpoch:))
            }
        }
    }

    /// A cursor that only heartbeats moved is made durable once it is this far ahead.
    static let durableLagEntriesMax: UInt64 = 10_000

    /// The writes of a batch, checked: each entry decodes as writes of one execution.
    static func commands(of batch: Periscope_V1_ReplicationBatch, from source: String) throws -> [ShardCommand] {
        var commands: [ShardCommand] = []
        for entry in batch.entries {
            guard case .replicable(_, let writes)? = try? ShardCommand.decode(Array(entry.commands)) else {
                throw RPCStatus(.invalidArgument, "region \(source) sent entry \(entry.index) that is not a list of writes")
            }
            commands += writes
        }
        return commands
    }

    /// Proposes a batch to the shard's group, in parts below the proposal limit if it is
    /// large (all but the last without a cursor: they apply again harmlessly if resent).
    func apply(_ commands: [ShardCommand], through: UInt64, backfilled: [String: UInt64] = [:]) async throws {
        var parts: [[ShardCommand]] = [[]]
        var bytes = 0
        for command in commands {
            let size = command.encoded().count
            if (bytes + size > Self.proposalBytesMax || parts[parts.count - 1].count >= ShardCommand.batchCountMax / 2),
               !parts[parts.count - 1].isEmpty {
                parts.append([])
                bytes = 0
            }
            parts[parts.count - 1].append(command)
            bytes += size
        }
        for (position, part) in parts.enumerated() {
            let last = position == parts.count - 1
            let batch = ReplicatedBatch(origin: source.index, through: last ? through : 0, commands: part, backfilled: last ? backfilled : [:])
            let applied = try await group.propose(ShardCommand.replicated(batch).encoded())
            node.indexers[shard].poke()
            record(applied.outcome, of: part)
        }
    }

    /// Counts what the batch did, and names the writes that lost a reconciliation.
    private func record(_ outcomes: [ApplyOutcome], of commands: [ShardCommand]) {
        var lost: [String] = []
        var replaced: [String] = []
        var written = 0
        for (outcome, command) in zip(outcomes, commands) {
            switch outcome {
            case .ignored(.olderFailoverVersion(let stored)):
                lost.append("\(command.executionKey.map(String.init(describing:)) ?? "?") (stored failover version \(stored))")
            case .replaced(let older):
                replaced.append("\(command.executionKey.map(String.init(describing:)) ?? "?") (over failover version \(older))")
                written += 1
            case .applied:
                written += 1
            default:
                break
            }
        }
        node.replication.updateInbound(from: source.name, shard: shard) { stream in
            stream.batchesApplied += 1
            stream.writesApplied += written
            stream.incomingLost += lost.count
            stream.storedReplaced += replaced.count
        }
        if !lost.isEmpty || !replaced.isEmpty {
            node.logger.notice("reconciled writes of two homes", metadata: [
                "source": "\(source.name)", "shard": "\(shard)", "incoming_lost": "\(lost.count)", "stored_replaced": "\(replaced.count)",
                "examples": "\((lost.prefix(3) + replaced.prefix(3)).joined(separator: "; "))",
            ])
        }
    }

    /// Below the groups' proposal limit (4 MiB), with room for the envelope.
    static let proposalBytesMax = 3 << 20
}

/// A backfill into one shard from the same shard of another region: its executions of some
/// namespaces (or of every namespace this region holds) as they are there, proposed chunk by
/// chunk (writes the conflict rule applies anywhere with the same result).
struct ReplicationBackfill {
    let node: VisibilityNode
    let source: DeploymentRegion
    let shard: Int

    /// After a cursor fell behind the source's outbox: every namespace this region holds,
    /// and then the cursor moves to the snapshot's index.
    func runFull() async throws { try await run(namespaceIds: [], moveCursor: true, marks: [:]) }

    /// After this region was added to namespaces: their executions written before.
    func run(namespaces marks: [String: UInt64]) async throws {
        try await run(namespaceIds: Array(marks.keys), moveCursor: false, marks: marks)
    }

    private func run(namespaceIds: [String], moveCursor: Bool, marks: [String: UInt64]) async throws {
        node.replication.updateInbound(from: source.name, shard: shard) { $0.phase = .backfilling }
        let subscriber = ReplicationSubscriber(node: node, source: source, shard: shard)
        let (client, _) = try await node.links.client(for: source.name)
        var chunks = 0
        var writes = 0
        let request = Periscope_V1_BackfillRequest.with {
            $0.deploymentID = node.deployment.id
            $0.targetRegion = node.region
            $0.shardID = UInt32(shard)
            $0.namespaceIds = namespaceIds
        }
        try await client.bidirectionalStreaming(RegionPeerMethods.backfill) { requests, responses in
            try await requests.sendLast(request)
            for try await chunk in responses {
                try node.links.checkReachable(source.name)
                guard case .batch(let commands)? = try? ShardCommand.decode(Array(chunk.commands)),
                      commands.allSatisfy({ $0.executionKey != nil }) else {
                    throw RPCStatus(.invalidArgument, "region \(source.name) sent a backfill chunk that is not a list of writes")
                }
                try await subscriber.apply(commands, through: chunk.last && moveCursor ? chunk.snapshotIndex : 0,
                                           backfilled: chunk.last ? marks : [:])
                chunks += 1
                writes += commands.count
                if chunk.last { return }
            }
            throw RPCStatus(.unavailable, "region \(source.name) ended the backfill before its last chunk")
        }
        node.replication.updateInbound(from: source.name, shard: shard) { $0.backfills += 1 }
        node.logger.info("backfilled from another region", metadata: [
            "source": "\(source.name)", "shard": "\(shard)", "chunks": "\(chunks)", "writes": "\(writes)",
            "namespaces": "\(namespaceIds.isEmpty ? "all held here" : namespaceIds.joined(separator: ","))",
        ])
    }
}
