import PeriscopeModel

/// What happened to one command.
public enum ApplyOutcome: Hashable, Sendable, Codable {
    case applied
    /// Acknowledged and ignored; the store already holds something at least as new.
    case ignored(IgnoredReason)
    /// The entry could not be decoded (it never reached the store); replicas agree on this.
    case rejected(String)
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
}

/// The version rules, as a pure function of the command and the stored state.
enum VersionRule {
    enum Decision: Equatable {
        case write(VisibilityRecord)
        case tombstone(version: Int64, at: Timestamp)
        case ignore(IgnoredReason)
    }

    static func decide(_ command: ShardCommand, stored: ExecutionState?) -> Decision {
        switch command {
        case .start(let record):
            guard let stored else { return .write(record) }
            return .ignore(.alreadyExists(storedVersion: stored.version))
        case .upsert(let record), .close(let record):
            if let stored, stored.version >= record.version { return .ignore(ignoredReason(stored)) }
            return .write(record)
        case .delete(_, let version, let time):
            if let stored, stored.version >= version { return .ignore(ignoredReason(stored)) }
            return .tombstone(version: version, at: time)
        case .expire, .batch:
            preconditionFailure("VersionRule decides single-execution commands only")
        }
    }

    private static func ignoredReason(_ stored: ExecutionState) -> IgnoredReason {
        stored.kind == .tombstone ? .deleted(tombstoneVersion: stored.version) : .staleVersion(storedVersion: stored.version)
    }
}

extension ShardCommand {
    /// The execution a single-execution command writes (start, upsert, close, delete); nil
    /// for retention and batches. The node routes writes by it.
    public var executionKey: ExecutionKey? {
        switch self {
        case .start(let record), .upsert(let record), .close(let record): record.key
        case .delete(let key, _, _): key
        case .expire, .batch: nil
        }
    }
}
