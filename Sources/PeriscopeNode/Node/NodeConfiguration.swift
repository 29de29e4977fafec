import Foundation
import Logging
import PeriscopeModel
import PeriscopeQuery
import PeriscopeShard

/// Everything a node is started with. The defaults are the embedded single node that
/// `periscope node start` runs with no arguments.
public struct NodeConfiguration: Sendable {
    /// Where the node keeps everything: `cluster.json`, `raft/`, `catalog/`, `shards/NNNN/`.
    public var dataDirectory = "./data"
    public var host = "127.0.0.1"
    /// 0 picks a free port (tests).
    public var port = 7280
    /// Shards of the region; fixed when the data directory is created (records are hashed
    /// onto them), checked against `cluster.json` afterwards.
    public var shardCount = 4
    public var region = "local"
    public var nodeID: UInt64 = 1
    /// Created at the first start when non-nil (Temporal's `default` namespace).
    public var defaultNamespace: String? = "default"
    public var defaultRetention: Duration = .seconds(3 * 86_400)

    public var raftTuning = RaftTuning()
    public var raftTickInterval: Duration = .milliseconds(100)
    /// Threads that run blocking shard reads for queries.
    public var queryThreads = 4
    /// How often retention proposes dropping expired partitions.
    public var retentionInterval: Duration = .seconds(300)
    /// How far two members' wall clocks may differ and still agree (`ClockAgreement`), and
    /// how often this node measures the others'.
    public var maxClockOffset: Duration = .milliseconds(500)
    public var clockCheckInterval: Duration = .seconds(1)
    /// How long a read-your-writes or strong query waits for the indexes at most.
    public var consistencyTimeout: Duration = .seconds(5)
    /// How long a write waits for its group to have a reachable leader (an election after
    /// a leader died takes one to two election timeouts) before failing UNAVAILABLE.
    public var leaderWaitTimeout: Duration = .seconds(8)
    /// The deadline of a proposal forwarded to the leader's node.
    public var forwardTimeout: Duration = .seconds(10)
    /// Start without creating a region: wait for `periscope cluster init` to make this node
    /// one of a region's members. A data directory that already belongs to one starts as usual.
    public var waitsForInit = false
    /// How often a member checks whether it leads two or more shards more than another and
    /// hands one over (`LeaderBalancer`); nil turns balancing off.
    public var leaderBalanceInterval: Duration? = .seconds(5)
    /// How often the member leading the region map's group takes the next step of a
    /// membership change (`MembershipController`).
    public var membershipStepInterval: Duration = .milliseconds(500)
    /// Below `floorBytes` free under the data directory the node takes no writes (see
    /// `DiskSpaceGuard`); `reserveBytes` are held in a file it releases then. Floor 0: off.
    public var diskSpace = DiskSpacePolicy(floorBytes: 256 << 20, reserveBytes: 64 << 20)
    /// How often the free space is read.
    public var diskCheckInterval: Duration = .milliseconds(500)
    /// Serve `ClusterPeer.InjectPartition` (tests and chaos runs only).
    public var allowsFaultInjection = false
    /// A deliberate bug, for showing that the chaos harness's checkers catch a real loss:
    /// this percentage of single writes is acknowledged without being proposed. Never set
    /// outside that demonstration (`--unsafe-lose-acknowledged-writes`, hidden).
    public var unsafeLostWritesPercent = 0
    public var pageSizeDefault = 100
    public var pageSizeMax = 1_000
    /// Index keys and records one shard may read for one page.
    public var scanBudget = 200_000
    /// Keys one shard may read for a count.
    public var countScanBudget = 10_000_000
    /// Writes in one `WriteBatch` call.
    public var batchWritesMax = 1_000
    /// How many of a shard's newest log positions its outbox keeps writes of for other
    /// regions (a region further behind is backfilled). The same on every node of a region.
    public var outboxRetainedEntries = 500_000
    /// How often the node leading its region's catalog compares namespaces with the other
    /// regions (changes are also offered at once; this is the backstop).
    public var namespaceSyncInterval: Duration = .seconds(1)
    /// Bounds of one batch of replicated writes, and of the batches a subscriber may leave
    /// unacknowledged.
    public var replicationBatchEntriesMax = 512
    public var replicationBatchBytesMax = 1 << 20
    public var replicationWindowBatches = 4
    /// How long a federated query waits for another region.
    public var federationTimeout: Duration = .seconds(5)
    public var logger = Logger(label: "periscope.node")
    /// Wall-clock time: retention horizons and delete tombstones (tests inject it).
    public var wallClock: @Sendable () -> Timestamp = { Timestamp.now }

    public init() {}
}

extension Timestamp {
    /// The system's real-time clock.
    static var now: Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(nanosecondsSinceEpoch: Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec))
    }
}

extension NodeConfiguration {
    /// The address this node's connections to its peers and to other regions leave from:
    /// its own listening address when that is one IP address (so that firewall rules on
    /// node-address pairs cut exactly the links they name), else the system's choice
    /// (a host name, or a wildcard address that listens everywhere).
    public var peerSourceHost: String? {
        var ipv4 = in_addr()
        var ipv6 = in6_addr()
        if inet_pton(AF_INET, host, &ipv4) == 1 { return ipv4.s_addr == 0 ? nil : host }
        if inet_pton(AF_INET6, host, &ipv6) == 1 { return host == "::" ? nil : host }
        return nil
    }
}
