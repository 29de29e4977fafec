import Foundation
import PeriscopeChaos
import PeriscopeClient

/// One seeded run: a fresh region of node processes, the workload beside the fault schedule,
/// a heal, convergence, the checkers, and the report in the run's directory.
struct ChaosRun {
    struct Settings: Sendable {
        var binary: String
        var topologyPath: String
        var topology: Topology
        var durationMs: Int
        var nemeses: [NemesisKind]
        var clients: Int
        var scanners: Int
        var keys: Int
        var recoveryBoundSeconds: Double
        var nodeArguments: [String]
        var outputDirectory: String
        var keepData: Bool
        /// The size of each node's tmpfs when the disk-full nemesis is chosen.
        var nodeDiskMegabytes: Int
    }

    let settings: Settings
    let seed: UInt64
    let log: @Sendable (String) -> Void

    var topologyName: String { ((settings.topologyPath as NSString).lastPathComponent as NSString).deletingPathExtension }

    func execute() async throws -> RunReport {
        let directory = settings.outputDirectory + "/\(topologyName)-seed\(seed)-\(Self.stamp())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let schedule = FaultSchedule.make(seed: seed, .init(durationMs: settings.durationMs, nodes: settings.topology.nodes.count,
                                                            kinds: settings.nemeses))
        log("seed \(seed): \(schedule.events.count) faults over \(settings.durationMs / 1_000) s on \(topologyName); output in \(directory)")

        // Disk-full needs a filesystem per node to fill: each data directory is a tmpfs.
        let nodes = NodeProcesses(binary: settings.binary, directory: directory, topology: settings.topology,
                                  extraArguments: settings.nodeArguments,
                                  tmpfsMegabytes: settings.nemeses.contains(.diskFull) ? settings.nodeDiskMegabytes : nil)
        Cleanup.shared.register("nodes") { nodes.stopAll() }
        defer { nodes.stopAll() }
        try await formRegion(nodes)

        // The run's time starts once the region is ready: the schedule's and the history's zero.
        let workloadClock = RunClock()
        let nemesis = Nemesis(nodes: nodes, clock: workloadClock)
        Cleanup.shared.register("network") { nemesis.healNetwork() }
        defer { nemesis.healNetwork() }
        let history = HistoryLog()
        let workload = Workload(options: .init(seed: seed, clients: settings.clients, scanners: settings.scanners, keys: settings.keys),
                                topology: settings.topology, clock: workloadClock, history: history)
        async let faults = nemesis.run(schedule, log: log)
        await workload.run(untilMs: settings.durationMs)
        let applied = await faults

        // Heal whatever is left (nothing, unless a heal failed), then judge.
        nemesis.healNetwork()
        for index in settings.topology.nodes.indices where !nodes.isRunning(index) { try? nodes.start(index) }
        for index in settings.topology.nodes.indices { nodes.resume(index) }
        let checks = Checks(topology: settings.topology, nodes: nodes, clock: workloadClock, log: log)
        let verdicts = await checks.run(history: history, faults: applied, recoveryBoundSeconds: settings.recoveryBoundSeconds)
        let report = RunReport(seed: seed, topology: topologyName, nodes: settings.topology.nodes.count,
                               durationMs: settings.durationMs, nemeses: settings.nemeses.map(\.rawValue), faults: applied,
                               summary: RunSummary(history: verdicts.history), checks: verdicts.results,
                               recoverySeconds: verdicts.recoverySeconds,
                               throughput: FaultThroughput(history: verdicts.history,
                                                           windows: applied.map { ($0.appliedMs, $0.healedMs ?? settings.durationMs) },
                                                           durationMs: settings.durationMs),
                               directory: directory)
        try report.write(history: verdicts.history)
        nodes.stopAll()
        if report.passed && !settings.keepData {
            for node in settings.topology.nodes { try? FileManager.default.removeItem(atPath: directory + "/n\(node.id)/data") }
        }
        return report
    }

    /// Starts every node and makes them one region; waits until every shard has a leader
    /// and the default namespace exists.
    private func formRegion(_ nodes: NodeProcesses) async throws {
        let topology = settings.topology
        for index in topology.nodes.indices { try nodes.start(index) }
        let plan = RegionPlan(region: topology.region ?? "local", shardCount: topology.shards,
                              members: topology.nodes.map { .init(nodeID: $0.id, address: $0.address) })
        do {
            _ = try await PeriscopeClient.initializeRegion(plan, wait: .seconds(90))
        } catch {
            let crashed = nodes.crashed().map { "node \(topology.nodes[$0.0].id) exited with status \($0.1) (see \(nodes.logPath($0.0)))" }
            throw HarnessError("the region did not form: \(error)" + (crashed.isEmpty ? "" : "; " + crashed.joined(separator: "; ")))
        }
        // Each member stops its init listener and opens its groups before it listens again.
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            if let client = await topology.client(0, totalTimeout: .seconds(3)) {
                let status = try? await client.clusterStatus()
                let namespace = try? await client.describeNamespace("default")
                let ready = status?.unavailableShards.isEmpty == true && namespace != nil
                await client.close()
                if ready {
                    log("region of \(topology.nodes.count) nodes ready")
                    return
                }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw HarnessError("the region formed but did not elect every shard's leader within 90 s")
    }

    static func stamp() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date())
    }
}
