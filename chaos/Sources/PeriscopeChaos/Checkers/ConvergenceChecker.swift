/// One replica's digest of one shard, sampled once the cluster has healed and quiesced.
public struct ReplicaDigestSample: Codable, Equatable, Sendable {
    public var node: Int
    public var shard: UInt32
    public var appliedIndex: UInt64
    /// Hex SHA-256 of the shard's state machine contents.
    public var sha256: String
    public var entries: UInt64

    public init(node: Int, shard: UInt32, appliedIndex: UInt64, sha256: String, entries: UInt64) {
        self.node = node
        self.shard = shard
        self.appliedIndex = appliedIndex
        self.sha256 = sha256
        self.entries = entries
    }
}

/// Every replica of every shard ends with the same applied index and the same contents. Every
/// node replicates every shard (the replication factor is the cluster's size), so a node
/// without a digest of some shard fails it too.
public enum ConvergenceChecker {
    public static let name = "convergence"

    /// `nodes`: the nodes expected to report every shard (default: every node that reported
    /// anything; pass the topology's so a node that reported nothing fails).
    public static func check(_ samples: [ReplicaDigestSample], nodes: [Int]? = nil) -> CheckResult {
        guard !samples.isEmpty else {
            return CheckResult(checker: name, passed: false, evidence: ["no replica digests were collected"])
        }
        let expected = Set(nodes ?? samples.map(\.node)).union(samples.map(\.node)).sorted()
        var byShard: [UInt32: [Int: ReplicaDigestSample]] = [:]
        for sample in samples { byShard[sample.shard, default: [:]][sample.node] = sample }
        var evidence: [String] = []
        for (shard, replicas) in byShard.sorted(by: { $0.key < $1.key }) {
            let digests = Set(replicas.values.map { "\($0.appliedIndex) \($0.sha256)" })
            guard digests.count > 1 || replicas.count < expected.count else { continue }
            let described = expected.map { node in
                replicas[node].map { "node \(node) index \($0.appliedIndex) sha \($0.sha256.prefix(12)) (\($0.entries) entries)" }
                    ?? "node \(node) missing"
            }
            evidence.append("shard \(shard) differs: " + described.joined(separator: ", "))
        }
        return CheckResult(checker: name, passed: evidence.isEmpty, evidence: evidence,
                           summary: "\(byShard.count) shards on \(expected.count) nodes")
    }
}
