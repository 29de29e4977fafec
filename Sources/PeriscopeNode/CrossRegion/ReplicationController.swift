import Foundation
import PeriscopeAPI
import PeriscopeModel
import PeriscopeRPC
import PeriscopeShard
import Synchronization

/// Runs replication between regions on this node, for the shards it leads: a subscriber
/// per (other region, shard), backfills of namespaces this region was added to, and trims
/// of the outbox through what every other region has durably received. Leaderships move,
/// so every pass looks again; a subscriber ends by itself once its shard is led elsewhere.
struct ReplicationController {
    let node: VisibilityNode

    func run(every interval: Duration = .milliseconds(250)) async {
        guard node.deployment.isMultiRegion else { return }
        let running = RunningTasks()
        var lastTrim = ContinuousClock.now
        var seen = node.catalogChanged.rings
        while !Task.isCancelled {
            for shard in 0..<node.shardCount where node.groups[shard].status.leader == node.nodeID {
                for source in node.deployment.others {
                    start("subscribe \(source.name) \(shard)", in: running) {
                        await ReplicationSubscriber(node: node, source: source, shard: shard).run()
                    }
                }
                if let (home, marks) = namespacesToBackfill(shard: shard) {
                    start("backfill \(shard)", in: running) {
                        do {
                            try await ReplicationBackfill(node: node, source: home, shard: shard).run(namespaces: marks)
                        } catch {
                            node.logger.warning("a namespace backfill failed; it is tried again", metadata: [
                                "source": "\(home.name)", "shard": "\(shard)", "error": "\(error)",
                            ])
                            try? await Task.sleep(for: .seconds(1))
                        }
                    }
                }
            }
            if ContinuousClock.now - lastTrim >= Self.trimInterval {
                lastTrim = .now
                await trimOutboxes()
            }
            await node.catalogChanged.wait(after: seen, timeout: interval)
            seen = node.catalogChanged.rings
        }
        for task in running.tasks.withLock({ Array($0.values) }) { task.cancel() }
    }

    /// Starts `body` under `name` unless a task of that name still runs.
    private func start(_ name: String, in running: RunningTasks, _ body: @escaping @Sendable () async -> Void) {
        running.tasks.withLock { tasks in
            guard tasks[name] == nil else { return }
            tasks[name] = Task {
                await body()
                _ = running.tasks.withLock { $0.removeValue(forKey: name) }
            }
        }
    }

    /// The namespaces this region was added to after their creation whose executions the
    /// shard has not received by backfill yet, from one home region (the next pass takes
    /// the next home), with the metadata version each addition had.
    func namespacesToBackfill(shard: Int) -> (DeploymentRegion, [String: UInt64])? {
        var byHome: [String: [String: UInt64]] = [:]
        for entry in node.catalog.namespaces where entry.homeRegion != node.region {
            guard let added = entry.regionsAddedAt[node.region], let home = node.deployment.region(named: entry.homeRegion) else { continue }
            let done = (try? node.shards[shard].backfilledVersion(of: entry.id, from: home.index)) ?? nil
            if (done ?? 0) < added { byHome[entry.homeRegion, default: [:]][entry.id] = added }
        }
        guard let (home, marks) = byHome.min(by: { $0.key < $1.key }), let region = node.deployment.region(named: home) else { return nil }
        return (region, marks)
    }

    static let trimInterval: Duration = .seconds(5)
    /// An outbox is trimmed only once it can drop at least this many log positions.
    static let trimStepEntries: UInt64 = 1_000

    /// Drops the outbox entries of each led shard that every other region has durably
    /// received (asked of each region: a region that does not answer keeps everything).
    func trimOutboxes() async {
        let led = (0..<node.shardCount).filter { node.groups[$0].status.leader == node.nodeID }
        guard !led.isEmpty else { return }
        var through = [UInt64](repeating: .max, count: node.shardCount)
        for region in node.deployment.others {
            guard let cursors = try? await node.links.call(region.name, RegionPeerMethods.getReplicationCursors, .with {
                $0.deploymentID = node.deployment.id
                $0.sourceRegion = node.region
            }), cursors.cursors.count == node.shardCount else { return }
            for shard in led { through[shard] = min(through[shard], cursors.cursors[shard]) }
        }
        for shard in led {
            let trimmed = (try? node.shards[shard].outbox(after: .max, entriesMax: 1, bytesMax: 1).trimmedThrough) ?? 0
            guard through[shard] != .max, through[shard] >= trimmed + Self.trimStepEntries else { continue }
            _ = try? await node.groups[shard].propose(ShardCommand.trimOutbox(through: through[shard]).encoded())
        }
    }
}

/// The controller's tasks by name (one per stream or backfill).
final class RunningTasks: Sendable {
    let tasks = Mutex<[String: Task<Void, Never>]>([:])
}
