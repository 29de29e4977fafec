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

    /// The namespace the workload writes: homed in the first region, held by every region.
    static let namespace = "chaos"

    let settings: Settings
    let seed: UInt64
    let log: @Sendable (String) -> Void

    var topologyName: String { ((settings.topologyPath as NSString).lastPathComponent as NSString).deletingPathExtension }

    func execute() async throws -> RunReport {
        let directory = settings.outputDirectory + "/\(topologyName)-seed\(seed)-\(Self.stamp())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let schedule = FaultSchedule.make(seed: seed, .init(durationMs: settings.durationMs, nodes: settings.topology.nodes.count,
                                                            kinds: settings.nemeses, regions: settings.topology.regions.map(\.nodes)))
        log("seed \(seed): \(schedule.events.count) faults over \(settings.durationMs / 1_000) s on \(topologyName); output in \(directory)")

        // Disk-full needs a filesystem per node to fill: each data directory is a tmpfs.
        // Clock skew attacks what reads the wall clock: retention (proposed every 2 s instead
        // of 5 minutes, so that it runs while a clock is off) and delete tombstones.
        let skew = settings.nemeses.contains(.clockSkew)
        let nodes = NodeProcesses(binary: settings.binary, directory: directory, topology: settings.topology,
                                  extraArguments: (skew ? ["--retention-interval", "2"] : []) + settings.nodeArguments,
                                  tmpfsMegabytes: settings.nemeses.contains(.diskFull) ? settings.nodeDiskMegabytes : nil,
                                  skewableClocks: skew)
        Cleanup.shared.register("nodes") { nodes.stopAll() }
        defer { nodes.stopAll() }
        try await formRegion(nodes)

        // The run's time starts once the region is ready: the schedule's and the history's zero.
        let workloadClock = RunClock()
        let nemesis = Nemesis(nodes: nodes, clock: workloadClock)
        Cleanup.shared.register("network") { nemesis.healNetwork() }
        defer { nemesis.healNetwork() }
        let history = HistoryLog()
        let workload = Workload(options: .init(seed: seed, clients: settings.clients, scanners: settings.scanners, keys: settings.keys,
                                               namespace: Self.namespace),
                                topology: settings.topology, clock: workloadClock, history: history)
        async let faults = nemesis.run(schedule, log: log)
        await workload.run(untilMs: settings.durationMs)
        let applied = await faults

        // Heal whatever is left (nothing, unless a heal failed), then judge.
        nemesis.healNetwork()
        for index in settings.topology.nodes.indices where !nodes.isRunning(index) { try? nodes.start(index) }
        for index in settings.topology.nodes.indices { nodes.resume(index) }
        let checks = Checks(topology: settings.topology, nodes: nodes, clock: workloadClock, namespace: Self.namespace, log: log)
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
            for index in settings.topology.nodes.indices { try? FileManager.default.removeItem(atPath: nodes.dataDirectory(index)) }
        }
        return report
    }

    /// Starts every node, makes them one region (or a deployment of regions), and creates the
    /// workload's namespace, homed in the first region and held by all; waits until every
    /// region has a leader for every shard and knows the namespace.
    private func formRegion(_ nodes: NodeProcesses) async throws {
        let topology = settings.topology
        for index in topology.nodes.indices { try nodes.start(index) }
        let plans = topology.regions.map { region in
            RegionPlan(region: region.name, shardCount: topology.shards,
                       members: region.nodes.map { .init(nodeID: topology.nodes[$0].id, address: topology.nodes[$0].address) })
        }
        do {
            if topology.isDeployment {
                _ = try await PeriscopeClient.initializeDeployment(DeploymentPlan(shardCount: topology.shards, regions: plans), wait: .seconds(90))
            } else {
                _ = try await PeriscopeClient.initializeRegion(plans[0], wait: .seconds(90))
            }
        } catch {
            let crashed = nodes.crashed().map { "node \(topology.nodes[$0.0].name) exited with status \($0.1) (see \(nodes.logPath($0.0)))" }
            throw HarnessError("the region did not form: \(error)" + (crashed.isEmpty ? "" : "; " + crashed.joined(separator: "; ")))
        }
        // Each member stops its init listener and opens its groups before it listens again.
        let deadline = ContinuousClock.now + .seconds(90)
        var created = false
        var waiting = Array(topology.regions.indices)
        while ContinuousClock.now < deadline {
            for region in waiting {
                guard let client = await topology.client(topology.regions[region].nodes[0], totalTimeout: .seconds(3)) else { continue }
                let elected = (try? await client.clusterStatus())?.unavailableShards.isEmpty == true
                if elected, !created, region == Topology.homeRegion {
                    // Not retried by the client (a lost answer could hide a success): asked again next round if it did not take.
                    created = (try? await client.createNamespace(Self.namespace, homeRegion: topology.regions[region].name,
                                                                 regions: topology.regions.map(\.name))) != nil
                }
                let namespace = try? await client.describeNamespace(Self.namespace)
                await client.close()
                if elected && namespace != nil { waiting.removeAll { $0 == region } }
            }
            if waiting.isEmpty {
                log(topology.isDeployment ? "deployment of \(topology.regions.count) regions (\(topology.nodes.count) nodes) ready"
                    : "region of \(topology.nodes.count) nodes ready")
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw HarnessError("the region formed but regions \(waiting.map { topology.regions[$0].name }) did not elect every shard's leader "
            + "or learn namespace \(Self.namespace) within 90 s")
    }

    static func stamp() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date())
    }
}
