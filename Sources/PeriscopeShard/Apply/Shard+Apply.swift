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
            var pending = PendingApply(shard: self, horizons: state.horizons, crossRegion: state.crossRegion)
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
            state.crossRegion = pending.crossRegion
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
    var crossRegion: CrossRegionState
    let batch = WriteBatch()
    /// Whether a locator entry written here is expired already (the sweep must look again).
    private(set) var wroteExpiredState = false
    /// Locator states written in this call (nil: none, i.e. expired).
    private var states: [ExecutionKey: ExecutionState] = [:]
    private var records: [ExecutionKey: VisibilityRecord] = [:]

    init(shard: Shard, horizons: [String: Int64], crossRegion: CrossRegionState) {
        self.shard = shard
        self.horizons = horizons
        self.crossRegion = crossRegion
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
        switch command {
        case .batch(let commands):
            for command in commands { outcomes.append(try apply(command, index: entry.index, change: &change, touched: &touched)) }
        case .replicable(let originTime, let commands):
            var kept: [ShardCommand] = []
            for command in commands {
                let outcome: ApplyOutcome
                if let stamp = command.writeStamp, let fence = crossRegion.fences[stamp.namespaceId], stamp.failoverVersion <= fence {
                    outcome = .fenced(throughFailoverVersion: fence)
                } else {
                    outcome = try apply(command, index: entry.index, change: &change, touched: &touched)
                }
                if outcome.changedStore { kept.append(command) }
                outcomes.append(outcome)
            }
            if !kept.isEmpty {
                try batch.put(ShardKeys.outbox(index: entry.index), ShardCommand.replicable(originTime: originTime, kept).encoded(),
                              in: shard.family(.outbox))
            }
            try trimOutboxBeyondSpan(at: entry.index)
        case .replicated(let replicated):
            outcomes = try apply(replicated, index: entry.index, change: &change, touched: &touched)
        case .fence(let namespaceId, let through):
            if let through {
                try batch.put(ShardKeys.fence(namespaceId), bigEndian(UInt64(bitPattern: through)), in: shard.family(.meta))
            } else {
                try batch.delete(ShardKeys.fence(namespaceId), in: shard.family(.meta))
            }
            crossRegion.fences[namespaceId] = through
            outcomes = [.applied]
        case .trimOutbox(let through):
            outcomes = [try trimOutbox(through: through)]
        default:
            outcomes = [try apply(command, index: entry.index, change: &change, touched: &touched)]
        }
        if !change.isEmpty {
            try batch.put(ShardKeys.change(index: entry.index), change.encoded(), in: shard.family(.changes))
        }
        return outcomes
    }

    /// Another region's writes: all of them, unless this shard has received the batch
    /// already (its cursor for that region is at or past the batch's end).
    private mutating func apply(_ replicated: ReplicatedBatch, index: UInt64, change: inout ChangeRecord,
                                touched: inout Set<ExecutionKey>) throws -> [ApplyOutcome] {
        let cursor = crossRegion.cursors[replicated.origin] ?? 0
        if replicated.through != 0, replicated.through <= cursor {
            return Array(repeating: .ignored(.alreadyReplicated(cursor: cursor)), count: replicated.commands.count)
        }
        var outcomes: [ApplyOutcome] = []
        for command in replicated.commands { outcomes.append(try apply(command, index: index, change: &change, touched: &touched)) }
        if replicated.through > cursor {
            try batch.put(ShardKeys.replicationCursor(origin: replicated.origin), bigEndian(replicated.through), in: shard.family(.meta))
            crossRegion.cursors[replicated.origin] = replicated.through
        }
        for (namespaceId, version) in replicated.backfilled {
            try batch.put(ShardKeys.backfilled(origin: replicated.origin, namespaceId), bigEndian(version), in: shard.family(.meta))
        }
        return outcomes
    }

    /// Drops the outbox's entries through `through` (every region fed has them).
    private mutating func trimOutbox(through: UInt64) throws -> ApplyOutcome {
        guard through > crossRegion.outboxTrimmedThrough else {
            return .ignored(.alreadyReplicated(cursor: crossRegion.outboxTrimmedThrough))
        }
        try batch.deleteRange(from: ShardKeys.outbox(index: 0), to: ShardKeys.outbox(index: through + 1), in: shard.family(.outbox))
        try batch.put(ShardKeys.outboxTrimmedThrough, bigEndian(through), in: shard.family(.meta))
        crossRegion.outboxTrimmedThrough = through
        return .applied
    }

    /// Keeps the outbox within `outboxRetainedEntries` log positions of the newest entry: a
    /// region cut off for longer is backfilled instead. Trimmed in steps (a range delete per
    /// step, not per entry: range tombstones cost every reader of the family).
    private mutating func trimOutboxBeyondSpan(at index: UInt64) throws {
        let span = UInt64(shard.configuration.outboxRetainedEntries)
        guard index > span else { return }
        let through = index - span
        if through >= crossRegion.outboxTrimmedThrough + max(1, span / 16) { _ = try trimOutbox(through: through) }
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
        let outcome: ApplyOutcome = stored.map { stored in
            stored.failoverVersion < (command.writeStamp?.failoverVersion ?? 0) ? .replaced(olderFailoverVersion: stored.failoverVersion) : .applied
        } ?? .applied

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
            let state = ExecutionState(kind: .live, version: record.version, partition: partition, lastChange: index,
                                       failoverVersion: record.failoverVersion)
            try batch.put(ShardKeys.record(key, in: partition), RecordCodec.encode(record), in: shard.family(.records))
            try batch.put(locator, state.encoded(), in: shard.family(.locator))
            states[key] = state
            records[key] = record
            wroteExpiredState = wroteExpiredState || state.isExpired(horizon: horizons[key.namespaceId])
        case .tombstone(let version, let time, let failoverVersion):
            let state = ExecutionState(kind: .tombstone, version: version, partition: .closed(bucket: scheme.bucket(of: time)),
                                       lastChange: index, failoverVersion: failoverVersion)
            try batch.put(locator, state.encoded(), in: shard.family(.locator))
            states[key] = state
            records[key] = nil
            wroteExpiredState = wroteExpiredState || state.isExpired(horizon: horizons[key.namespaceId])
        case .ignore:
            break
        }
        return outcome
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
