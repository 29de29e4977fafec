import ArgumentParser
import Foundation
import Logging
import NIOCore
import PeriscopeNode
import ServiceLifecycle

struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run a Periscope node.",
        subcommands: [NodeStartCommand.self]
    )
}

/// `periscope node start`: with no arguments, a single node on the embedded default.
struct NodeStartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start a node (with no options: one node, data in ./data, listening on 127.0.0.1:7280).",
        discussion: """
            Serves the visibility and admin services over HTTP/2 (h2c, prior knowledge: gRPC and JSON), \
            plus GET /metrics (Prometheus text), /healthz and /readyz. The first start creates the data \
            directory with its shard count and a `default` namespace. Options override the config file, \
            a JSON object with the same names: {"data": "./data", "port": 7280, "shards": 4, ...}. \
            SIGTERM or SIGINT: stop taking calls, finish those in flight, let the indexes catch up, \
            close, exit 0. Exit status 1 when the node cannot start (the reason is logged).
            """
    )

    @Option(help: "A JSON config file (options given here win).") var config: String?
    @Option(help: "Data directory.") var data: String?
    @Option(help: "Address to listen on.") var host: String?
    @Option(help: "Port to listen on (0 picks a free one).") var port: Int?
    @Option(help: "Shards of the region (fixed when the data directory is created).") var shards: Int?
    @Option(help: "This node's id.") var nodeId: UInt64?
    @Option(help: "The region's name.") var region: String?
    @Option(help: "Namespace created at the first start (empty: none).") var defaultNamespace: String?
    @Option(help: "Event-loop threads.") var threads: Int?
    @Option(help: "Threads for blocking shard reads.") var queryThreads: Int?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String?
    @Flag(help: "With an empty data directory, create no region: wait for `periscope cluster init` to make this node a member.")
    var waitForInit = false
    @Flag(inversion: .prefixedNo, help: "In a region, hand shard leaderships to members leading fewer (every 5 s).")
    var balanceLeaders = true
    @Option(help: "Compact a Raft group's log once this many applied entries sit in it, keeping a tenth for followers slightly behind (a follower further behind gets a snapshot).")
    var compactLogAfter: Int?
    @Option(help: "In a deployment of regions: how many of a shard's newest log positions its outbox keeps for other regions (a region further behind is backfilled).")
    var outboxRetainedEntries: Int?
    @Option(help: "In a deployment of regions: seconds a federated query waits for another region.")
    var federationTimeout: Double?
    @Option(help: "Below this many MiB free under --data the node takes no writes, hands off its leaderships and drops appends until space is freed (0: off).")
    var diskFloorMb: Int?
    @Option(help: "MiB the node holds in a reserve file (data/space-reserve) and releases when low on disk, so what is in flight can finish.")
    var diskReserveMb: Int?
    @Option(help: "Seconds between retention passes (each drops the closed partitions older than every namespace's retention).")
    var retentionInterval: Double?
    @Option(help: "Milliseconds two members' wall clocks may differ and still agree. Retention and deletes are stamped with the region's time: a node whose clock is further off uses the others' (and logs it); one that cannot compare with a majority stamps nothing.")
    var maxClockOffsetMs: Int?
    @Flag(help: ArgumentHelp("Serve fault injection (tests and chaos runs only).", visibility: .hidden)) var allowFaultInjection = false
    @Option(help: ArgumentHelp("A deliberate bug: acknowledge this percentage of single writes without storing them (only to show "
        + "that the chaos harness's checkers catch a loss).", visibility: .hidden))
    var unsafeLoseAcknowledgedWrites = 0
    @Option(help: ArgumentHelp("A fault for chaos runs: offset this node's wall clock (retention, delete tombstones) by the signed "
        + "seconds in this file, reread every second.", visibility: .hidden))
    var unsafeClockOffsetFile: String?

    struct FileConfig: Decodable {
        var data: String?
        var host: String?
        var port: Int?
        var shards: Int?
        var nodeId: UInt64?
        var region: String?
        var defaultNamespace: String?
        var threads: Int?
        var queryThreads: Int?
        var logLevel: String?
        var waitForInit: Bool?
    }

    func run() async throws {
        var file = FileConfig()
        if let config {
            do {
                file = try JSONDecoder().decode(FileConfig.self, from: Data(contentsOf: URL(fileURLWithPath: config)))
            } catch {
                throw ValidationError("cannot read the config file \(config): \(error)")
            }
        }
        let levelName = logLevel ?? file.logLevel ?? "info"
        guard let level = Logger.Level(rawValue: levelName) else { throw ValidationError("unknown log level '\(levelName)'") }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var configuration = NodeConfiguration()
        configuration.dataDirectory = data ?? file.data ?? configuration.dataDirectory
        configuration.host = host ?? file.host ?? configuration.host
        configuration.port = port ?? file.port ?? configuration.port
        configuration.shardCount = shards ?? file.shards ?? configuration.shardCount
        configuration.nodeID = nodeId ?? file.nodeId ?? configuration.nodeID
        configuration.region = region ?? file.region ?? configuration.region
        let defaultName = defaultNamespace ?? file.defaultNamespace ?? "default"
        configuration.defaultNamespace = defaultName.isEmpty ? nil : defaultName
        configuration.queryThreads = queryThreads ?? file.queryThreads ?? configuration.queryThreads
        configuration.waitsForInit = waitForInit || (file.waitForInit ?? false)
        configuration.allowsFaultInjection = allowFaultInjection
        for (name, value) in [("--disk-floor-mb", diskFloorMb), ("--disk-reserve-mb", diskReserveMb)] {
            if let value, value < 0 || value > 1 << 30 { throw ValidationError("\(name) must be 0 ... \(1 << 30) MiB; got \(value)") }
        }
        if let diskFloorMb { configuration.diskSpace.floorBytes = UInt64(diskFloorMb) << 20 }
        if let diskReserveMb { configuration.diskSpace.reserveBytes = UInt64(diskReserveMb) << 20 }
        guard (0...100).contains(unsafeLoseAcknowledgedWrites) else {
            throw ValidationError("--unsafe-lose-acknowledged-writes is a percentage (0-100); got \(unsafeLoseAcknowledgedWrites)")
        }
        configuration.unsafeLostWritesPercent = unsafeLoseAcknowledgedWrites
        if let unsafeClockOffsetFile {
            let clock: SkewedWallClock
            do { clock = try SkewedWallClock(path: unsafeClockOffsetFile) } catch { throw ValidationError("--unsafe-clock-offset-file: \(error)") }
            configuration.wallClock = { clock.now() }
            Logger(label: "periscope.node").warning("UNSAFE: the wall clock is offset by the seconds in \(unsafeClockOffsetFile) (--unsafe-clock-offset-file)")
        }
        if unsafeLoseAcknowledgedWrites > 0 {
            Logger(label: "periscope.node").critical("UNSAFE: acknowledging \(unsafeLoseAcknowledgedWrites)% of single writes without storing them (--unsafe-lose-acknowledged-writes)")
        }
        if !balanceLeaders { configuration.leaderBalanceInterval = nil }
        if let entries = compactLogAfter {
            guard entries >= 10 else { throw ValidationError("--compact-log-after must be at least 10 entries; got \(entries)") }
            configuration.raftTuning.compactAfterEntries = entries
            configuration.raftTuning.compactionKeepsEntries = entries / 10
        }
        if let outboxRetainedEntries {
            guard outboxRetainedEntries >= 1 else { throw ValidationError("--outbox-retained-entries must be at least 1; got \(outboxRetainedEntries)") }
            configuration.outboxRetainedEntries = outboxRetainedEntries
        }
        if let federationTimeout {
            guard federationTimeout > 0, federationTimeout <= 600 else { throw ValidationError("--federation-timeout must be in (0, 600] seconds; got \(federationTimeout)") }
            configuration.federationTimeout = .milliseconds(Int64(federationTimeout * 1_000))
        }
        if let maxClockOffsetMs {
            guard maxClockOffsetMs >= 1, maxClockOffsetMs <= 3_600_000 else {
                throw ValidationError("--max-clock-offset-ms must be in [1, 3600000]; got \(maxClockOffsetMs)")
            }
            configuration.maxClockOffset = .milliseconds(maxClockOffsetMs)
        }
        if let retentionInterval {
            guard retentionInterval >= 1, retentionInterval <= 86_400 else {
                throw ValidationError("--retention-interval must be in [1, 86400] seconds; got \(retentionInterval)")
            }
            configuration.retentionInterval = .milliseconds(Int64(retentionInterval * 1_000))
        }
        configuration.logger = Logger(label: "periscope.node")
        let eventLoopThreads = threads ?? file.threads ?? System.coreCount
        let logger = configuration.logger
        let host = configuration.host
        let dataDirectory = configuration.dataDirectory
        let namespace = configuration.defaultNamespace ?? "default"

        let service = NodeService(configuration: configuration, eventLoopThreads: eventLoopThreads) { server in
            let address = "\(host):\(server.port)"
            let node = server.node
            let members = node.memberIDs.count == 1 ? "" : "  members: \(node.memberIDs.map(String.init).joined(separator: ", "))"
            print("""
                periscope node \(node.configuration.nodeID): listening on http://\(address) (h2c, prior knowledge; gRPC and JSON)
                  data: \(dataDirectory)  region: \(node.region)  shards: \(node.shardCount)\(members)  namespaces: \(node.catalog.namespaces.map(\.name).joined(separator: ", "))
                  metrics: curl --http2-prior-knowledge http://\(address)/metrics
                  try:  periscope write start --address \(address) --namespace \(namespace) --workflow-id order-1 --run-id r1 --type order
                        periscope query list --address \(address) --namespace \(namespace) "WorkflowType = 'order'"
                """)
            fflush(nil)
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.critical("the node stopped: \(error)")
            throw ExitCode(1)
        }
    }
}
