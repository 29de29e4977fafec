import PeriscopeModel

/// What happened to one command.
public enum ApplyOutcome: Hashable, Sendable, Codable {
    case applied
    /// Applied, replacing what a write accepted under an older failover version had stored:
    /// that write lost the reconciliation of two regions' writes.
    case replaced(olderFailoverVersion: Int64)
    /// Acknowledged and ignored; the store already holds something at least as new.
    case ignored(IgnoredReason)
    /// The entry could not be decoded (it never reached the store); replicas agree on this.
    case rejected(String)
    /// Refused: the namespace is failing over to another region (`ShardCommand.fence`) and
    /// this region no longer commits writes accepted through this failover version.
    case fenced(throughFailoverVersion: Int64)

    /// The write changed the store.
    public var changedStore: Bool {
        switch self {
        case .applied, .replaced: true
        case .ignored, .rejected, .fenced: false
        }
    }
}

public enum IgnoredReason: Hashable, Sendable, Codable {
    /// A start for an execution the shard already has (live or deleted).
    case alreadyExists(storedVersion: Int64)
    /// A write whose version is not newer than the stored one.
    case staleVersion(storedVersion: Int64)
    /// A write older than the tombstone a delete left.
    case deleted(tombstoneVersion: Int64)
    /// Retention already dropped these partitions.
    case alreadyExpired(throughBucket: Int64)
    /// The store holds a write accepted under a newer failover version: this one, accepted
    /// before the namespace's home moved, lost the reconciliation.
    case olderFailoverVersion(storedFailoverVersion: Int64)
    /// A replicated batch this shard had received already (its cursor is past it).
    case alreadyReplicated(cursor: UInt64)
}

/// The version rules, as a pure function of the command and the stored state.
enum VersionRule {
    enum Decision: Equatable {
        case write(VisibilityRecord)
        case tombstone(version: Int64, at: Timestamp, failoverVersion: Int64)
        case ignore(IgnoredReason)
    }

    /// Versions compare as `ConflictVersion`s: the failover version first. A start changes
    /// an execution only when none is stored, or when the stored one was accepted under an
    /// older failover version (a start the new home accepted after a failover): so regions
    /// that received the writes of two homes in different orders end with the same record.
    static func decide(_ command: ShardCommand, stored: ExecutionState?) -> Decision {
        switch command {
        case .start(let record):
            guard let stored else { return .write(record) }
            if stored.failoverVersion < record.failoverVersion { return .write(record) }
            if stored.failoverVersion > record.failoverVersion { return .ignore(ignoredReason(stored, record.failoverVersion)) }
            return .ignore(.alreadyExists(storedVersion: stored.version))
        case .upsert(let record), .close(let record):
            if let stored, stored.conflictVersion >= record.conflictVersion { return .ignore(ignoredReason(stored, record.failoverVersion)) }
            return .write(record)
        case .delete(_, let version, let time, let failoverVersion):
            let incoming = ConflictVersion(failoverVersion: failoverVersion, version: version)
            if let stored, stored.conflictVersion >= incoming { return .ignore(ignoredReason(stored, failoverVersion)) }
            return .tombstone(version: version, at: time, failoverVersion: failoverVersion)
        case .expire, .batch, .replicable, .replicated, .fence, .trimOutbox:
            preconditionFailure("VersionRule decides single-execution commands only")
        }
    }

    private static func ignoredReason(_ stored: ExecutionState, _ incomingFailoverVersion: Int64) -> IgnoredReason {
        if stored.failoverVersion > incomingFailoverVersion {
            return .olderFailoverVersion(storedFailoverVersion: stored.failoverVersion)
        }
        return stored.kind == .tombstone ? .deleted(tombstoneVersion: stored.version) : .staleVersion(storedVersion: stored.version)
    }
}

extension ShardCommand {
    /// The execution a single-execution command writes (start, upsert, close, delete); nil
    /// for retention and batches. The node routes writes by it.
    public var executionKey: ExecutionKey? {
        switch self {
        case .start(let record), .upsert(let record), .close(let record): record.key
        case .delete(let key, _, _, _): key
        case .expire, .batch, .replicable, .replicated, .fence, .trimOutbox: nil
        }
    }
}
