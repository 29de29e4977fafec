/// What the workload did: every operation's invocation and completion, as Jepsen records
/// them. A write that timed out or lost its connection is `unknown`: it may or may not have
/// been applied, and the checkers allow both.
public struct HistoryOperation: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// A start, upsert or close of `key` at `version`.
        case write
        /// A strong point read of `key`; `observedVersion` is what it returned (nil: absent).
        case read
    }

    public enum Outcome: String, Codable, Sendable {
        case ok
        /// Definitely not applied (refused before it reached a log).
        case failed
        /// No answer: applied or not.
        case unknown
    }

    public var client: Int
    public var kind: Kind
    /// The execution's workflow id.
    public var key: String
    /// A write's version; a read's observed version.
    public var version: Int64?
    public var invokedNanoseconds: Int64
    public var completedNanoseconds: Int64?
    public var outcome: Outcome

    public init(client: Int, kind: Kind, key: String, version: Int64?, invokedNanoseconds: Int64,
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

    public static let evidenceMax = 20
}
