import PeriscopeAPI
import PeriscopeModel
import PeriscopeShard

extension VisibilityNode {
    /// The shard that holds `key`.
    public func shard(of key: ExecutionKey) -> Int {
        ShardRouting.shard(namespaceId: key.namespaceId, workflowId: key.workflowId, shardCount: shardCount)
    }

    /// Proposes `commands` to one shard's group as one entry (a batch when there are
    /// several, applied atomically) and returns once it is committed (fsync'd) and applied:
    /// the entry's index and one outcome per command. The commands must already be valid
    /// for their namespace's schema: a shard applies what reaches it as is.
    public func propose(_ commands: [ShardCommand], toShard shard: Int) async throws -> (index: UInt64, outcomes: [ApplyOutcome]) {
        precondition(!commands.isEmpty && shard >= 0 && shard < shardCount)
        let command = commands.count == 1 ? commands[0] : .batch(commands)
        let applied = try await proposeOnLeader(groups[shard], command.encoded())
        indexers[shard].poke()
        return (applied.index, applied.outcome)
    }

    /// The token a write returns: the index each shard applied it at, in this region.
    func consistencyToken(_ indexes: [Int: UInt64]) -> [UInt8] { NodeConsistencyToken.make(indexes, region: deployment.local.index) }

    /// Proposes clients' writes to one shard as one entry: in a deployment of several regions
    /// as `replicable` (kept in the outbox for the other regions, refused once a failover
    /// fenced their namespace), else as `propose` does. One outcome per write.
    public func proposeWrites(_ commands: [ShardCommand], toShard shard: Int) async throws -> (index: UInt64, outcomes: [ApplyOutcome]) {
        guard deployment.isMultiRegion else { return try await propose(commands, toShard: shard) }
        let applied = try await proposeOnLeader(groups[shard], ShardCommand.replicable(originTime: configuration.wallClock(), commands).encoded())
        indexers[shard].poke()
        return (applied.index, applied.outcome)
    }

    /// Proposes writes to every shard they route to, concurrently (one entry per shard), and
    /// returns each write's outcome in request order with the consistency token covering
    /// them all. A shard whose proposal failed fails its writes with that error; the others
    /// still apply.
    ///
    /// - Precondition: every command writes one execution (`executionKey` is not nil).
    public func write(_ commands: [ShardCommand]) async -> (outcomes: [Result<ApplyOutcome, any Error>], token: [UInt8]) {
        let byShard = Dictionary(grouping: commands.indices) { position in
            guard let key = commands[position].executionKey else { preconditionFailure("\(commands[position]) is not a write of one execution") }
            return shard(of: key)
        }
        var outcomes = [Result<ApplyOutcome, any Error>](repeating: .failure(ReplicationError.stopped), count: commands.count)
        var indexes: [Int: UInt64] = [:]
        // Each task returns one plain struct with its own shard and positions. (Tuples of a
        // `Result` of a labeled tuple as the group's child type, and looking positions up in
        // `byShard` in the loop, crashed release builds of Swift 6.3 under WriteBatch load.)
        await withTaskGroup(of: ShardWrite.self) { group in
            for (shard, positions) in byShard {
                let shardCommands = positions.map { commands[$0] }
                group.addTask {
                    do {
                        let applied = try await self.proposeWrites(shardCommands, toShard: shard)
                        return ShardWrite(shard: shard, positions: positions, index: applied.index, outcomes: applied.outcomes, failure: nil)
                    } catch {
                        return ShardWrite(shard: shard, positions: positions, index: 0, outcomes: [], failure: error)
                    }
                }
            }
            for await written in group {
                let positions = written.positions
                if let failure = written.failure {
                    for position in positions { outcomes[position] = .failure(failure) }
                    continue
                }
                indexes[written.shard] = written.index
                if written.outcomes.count == positions.count {
                    for (position, outcome) in zip(positions, written.outcomes) { outcomes[position] = .success(outcome) }
                } else {
                    // The entry was refused whole (one outcome for all its commands).
                    let outcome = written.outcomes.first ?? .rejected("no outcome for the entry")
                    for position in positions { outcomes[position] = .success(outcome) }
                }
            }
        }
        return (outcomes, consistencyToken(indexes))
    }
}

/// One shard's part of a `write`: its entry's index and outcomes, or why it failed.
private struct ShardWrite: Sendable {
    let shard: Int
    let positions: [Int]
    let index: UInt64
    let outcomes: [ApplyOutcome]
    let failure: (any Error)?
}
