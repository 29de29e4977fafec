/// Which of two writes of one execution is newer: the namespace's failover version first
/// (a write its home region accepted after a failover wins over every write accepted before
/// it), then the engine's version (Temporal's task id). The same order in every region, so
/// regions that received the same writes in any order hold the same record.
public struct ConflictVersion: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var failoverVersion: Int64
    public var version: Int64

    public init(failoverVersion: Int64, version: Int64) {
        self.failoverVersion = failoverVersion
        self.version = version
    }

    public static func < (lhs: ConflictVersion, rhs: ConflictVersion) -> Bool {
        (lhs.failoverVersion, lhs.version) < (rhs.failoverVersion, rhs.version)
    }

    public var description: String { "failover version \(failoverVersion), version \(version)" }
}

extension VisibilityRecord {
    public var conflictVersion: ConflictVersion { ConflictVersion(failoverVersion: failoverVersion, version: version) }
}
