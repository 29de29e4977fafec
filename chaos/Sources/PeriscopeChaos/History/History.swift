/// What the workload did: every operation's invocation and completion, as Jepsen records
/// them. A write that timed out or lost its connection is `unknown`: it may or may not have
/// been applied (now or later), and the checkers allow both.
///
/// Every execution of a run has one run id, so a key is its workflow id. Writes carry
/// versions; the store keeps, per key, the write with the highest version (a start only when
/// nothing is stored; an upsert, close or delete only above the stored version; a delete
/// leaves a tombstone that hides the key from reads).
public struct HistoryOperation: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable {
        case start, upsert, close, delete
        /// A point read of `key` (`GetExecution`) at `consistency`; `version` is what it
        /// returned (nil: absent).
        case read
        /// A paginated listing of the run's namespace, one page per call; `scanKeys` is every
        /// key it returned, in order, repeats included.
        case scan
        /// A count (with GROUP BY ExecutionStatus); `count` is the total.
        case count

        public var isWrite: Bool { self == .start || self == .upsert || self == .close || self == .delete }
    }

    public enum Outcome: String, Codable, Sendable {
        case ok
        /// Definitely not applied (refused before it reached a log).
        case failed
        /// No answer: applied or not.
        case unknown
    }

    public enum Consistency: String, Codable, Sendable {
        case strong
        /// Read-your-writes with the token of this client's write of `requiredVersion`.
        case readYourWrites = "read-your-writes"
        case eventual
    }

    public var client: Int
    public var kind: Kind
    /// The execution's workflow id (empty for scans and counts).
    public var key: String
    /// A write's version; a read's observed version (nil: absent).
    public var version: Int64?
    /// A completed write: whether the store changed (false: it held something as new).
    public var applied: Bool?
    /// A read's, scan's or count's consistency.
    public var consistency: Consistency?
    /// A read-your-writes read: the version of the write whose token it carried.
    public var requiredVersion: Int64?
    /// A scan's keys, in the order returned.
    public var scanKeys: [String]?
    /// A scan whose point in time was lost (a node restarted or it paused too long): it may
    /// repeat or miss executions that changed, and the paging checker says so instead of
    /// failing it.
    public var pointInTimeLost: Bool?
    public var count: Int64?
    /// The index of the node the client was given (its seed).
    public var node: Int?
    public var invokedNanoseconds: Int64
    public var completedNanoseconds: Int64?
    public var outcome: Outcome
    /// Why it failed or is unknown.
    public var error: String?

    public init(client: Int, kind: Kind, key: String = "", version: Int64? = nil, invokedNanoseconds: Int64,
                completedNanoseconds: Int64?, outcome: Outcome) {
        self.client = client
        self.kind = kind
        self.key = key
        self.version = version
        self.invokedNanoseconds = invokedNanoseconds
        self.completedNanoseconds = completedNanoseconds
        self.outcome = outcome
    }
}

/// A checker's verdict, with the evidence of a failure (at most `evidenceMax` lines).
public struct CheckResult: Codable, Equatable, Sendable {
    public var checker: String
    public var passed: Bool
    public var evidence: [String]
    /// What was checked, for the report ("412 keys, 3,100 operations").
    public var summary: String

    public init(checker: String, passed: Bool, evidence: [String], summary: String = "") {
        self.checker = checker
        self.passed = passed
        self.summary = summary
        self.evidence = Array(evidence.prefix(Self.evidenceMax))
            + (evidence.count > Self.evidenceMax ? ["… and \(evidence.count - Self.evidenceMax) more"] : [])
    }

    public static let evidenceMax = 20
}
