import PeriscopeModel
import PeriscopeStorage

/// A committed entry of the shard's Raft group.
public struct CommittedEntry: Sendable {
    public var index: UInt64
    public var data: [UInt8]

    public init(index: UInt64, data: [UInt8]) {
        self.index = index
        self.data = data
    }
}

extension Shard {
    /// Applies committed entries in one atomic WriteBatch together with the applied index.
    /// Entries are in increasing index order; an entry with no data is a no-op. Entries at
    /// or below the applied index are skipped (a replay after a restart), so
    /// applying an entry twice changes nothing. Returns one outcome per command (a batch
    /// command's commands in order) for each entry applied now.
    ///
    /// The write is not fsync'd: the Raft log is, and a shard that loses its tail in a crash
    /// replays it from `appliedIndex`.
    @discardableResult
    public func apply(_ entries: [CommittedEntry]) throws -> [UInt64: [ApplyOutcome]] {
        try applyState.withLock { state in
            var pending = PendingApply(shard: self, horizons: state.horizons)
            var outcomes: [UInt64: [ApplyOutcome]] = [:]
            var applied = state.appliedIndex
            // Indexes may skip but never go back. Entries without shard data (a leader's empty
            // entry, a membership change) come with no data: they only move the applied index.
            for entry in entries where entry.index > applied {
                outcomes[entry.index] = entry.data.isEmpty ? [] : try pending.apply(entry)
                applied = entry.index
            }
            guard applied > state.appliedIndex else { return outcomes }
            try pending.batch.put(ShardKeys.appliedIndex, bigEndian(applied), in: family(.meta))
            try database.write(pending.batch, options: .buffered)
            state.appliedIndex = applied
            state.horizons = pending.horizons
            if pending.wroteExpiredState { state.sweep.cleanThrough = nil }
            return outcomes
        }
    }

    /// Applies commands as entries `appliedIndex + 1, + 2, …` (tests and tools).
    @discardableResult
    public func apply(_ commands: [ShardCommand]) throws -> [ApplyOutcome] {
        let first = appliedIndex + 1
        let entries = commands.enumerated().map { CommittedEntry(index: first + UInt64($0.offset), data: $0.element.encoded()) }
        let outcomes = try apply(entries)
        return entries.flatMap { outcomes[$0.index] ?? [] }
    }
}

/// The writes of one `apply` call, with an overlay so that later commands see earlier ones.
private struct PendingApply {
    let shard: Shard
    var horizons: [String: Int64]
    let batch = WriteBatch()
    /// Whether a locator entry written here is expired already (the sweep must look again).
    private(set) var wroteExpiredState = false
    /// Locator states written in this call (nil: none, i.e. expired).
    private var states: [ExecutionKey: ExecutionState] = [:]
    private var records: [ExecutionKey: VisibilityRecord] = [:]

    init(shard: Shard, horizons: [String: Int64]) {
        self.shard = shard
        self.horizons = horizons
    }

    mutating func apply(_ entry: CommittedEntry) throws -> [ApplyOutcome] {
        let command: ShardCommand
        do {
            command = try ShardCommand.decode(entry.data)
        } catch {
            return [.rejected("entry \(entry.index): \(error)")]
        }
        var change = ChangeRecord()
        var touched: Set<ExecutionKey> = []
        var outcomes: [ApplyOutcome] = []
        let commands: [ShardCommand]
        if case .batch(let inner) = command { commands = inner } else { commands = [command] }
        for command in commands {
            outcomes.append(try apply(command, index: entry.index, change: &change, touched: &touched))
        }
        if !change.isEmpty {
            try batch.put(ShardKeys.change(index: entry.index), change.encoded(), in: shard.family(.changes))
        }
        return outcomes
    }

    private mutating func apply(_ command: ShardCommand, index: UInt64, change: inout ChangeRecord,
                                touched: inout Set<ExecutionKey>) throws -> ApplyOutcome {
        if case .expire(let namespaceId, let closedBefore) = command {
            return try expire(namespaceId, closedBefore: closedBefore, change: &change)
        }
        guard let key = command.executionKey else { return .rejected("a batch inside a batch") }
        let recorded = try recordedState(of: key)
        let stored = recorded.flatMap { $0.isExpired(horizon: horizons[key.namespaceId]) ? nil : $0 }
        let decision = VersionRule.decide(command, stored: stored)
        if case .ignore(let reason) = decision { return .ignored(reason) }

        let before = try stored.flatMap { try $0.kind == .live ? record(key, in: $0.partition) : nil }
        if touched.insert(key).inserted {
            // The first change to this execution in the entry: its state before the entry, and
            // its previous change even if retention dropped it since (the chain must not break).
            change.touches.append(.init(key: key, previousChange: recorded?.lastChange ?? 0, before: before))
        }
        let locator = ShardKeys.locator(key)
        let scheme = shard.configuration.partitionScheme
        if let stored, stored.kind == .live {
            try batch.delete(ShardKeys.record(key, in: stored.partition), in: shard.family(.records))
        }
        switch decision {
        case .write(let record):
            let partition = scheme.partition(of: record)
            let state = ExecutionState(kind: .live, version: record.version, partition: partition, lastChange: index)
            try batch.put(ShardKeys.record(key, in: partition), RecordCodec.encode(record), in: shard.family(.records))
            try batch.put(locator, state.encoded(), in: shard.family(.locator))
            states[key] = state
            records[key] = record
            wroteExpiredState = wroteExpiredState || state.isExpired(horizon: horizons[key.namespaceId])
        case .tombstone(let version, let time):
            let state = ExecutionState(kind: .tombstone, version: version, partition: .closed(bucket: scheme.bucket(of: time)),
                                       lastChange: index)
            try batch.put(locator, state.encoded(), in: shard.family(.locator))
            states[key] = state
            records[key] = nil
            wroteExpiredState = wroteExpiredState || state.isExpired(horizon: horizons[key.namespaceId])
        case .ignore:
            break
        }
        return .applied
    }

    private mutating func expire(_ namespaceId: String, closedBefore: Timestamp, change: inout ChangeRecord) throws -> ApplyOutcome {
        let through = shard.configuration.partitionScheme.lastBucket(endingAtOrBefore: closedBefore)
        if let horizon = horizons[namespaceId], horizon >= through {
            return .ignored(.alreadyExpired(throughBucket: horizon))
        }
        let range = ShardKeys.closedPartitions(namespaceId, throughBucket: through)
        try batch.deleteRange(from: range.from, to: range.to, in: shard.family(.records))
        try batch.put(ShardKeys.retentionHorizon(namespaceId), bigEndian(UInt64(bitPattern: through)), in: shard.family(.meta))
        horizons[namespaceId] = through
        change.expiries.append(.init(namespaceId: namespaceId, throughBucket: through))
        return .applied
    }

    /// The locator's state, expired or not.
    private func recordedState(of key: ExecutionKey) throws -> ExecutionState? {
        try states[key] ?? shard.database.get(ShardKeys.locator(key), in: shard.family(.locator)).map(ExecutionState.decode)
    }

    private func record(_ key: ExecutionKey, in partition: Partition) throws -> VisibilityRecord? {
        if let record = records[key] { return record }
        return try shard.record(key, in: partition)
    }
}
