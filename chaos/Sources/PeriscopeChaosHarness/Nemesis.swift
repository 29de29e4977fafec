import Foundation
import PeriscopeChaos
import PeriscopeClient

/// A fault as it happened: the scheduled event, the node it actually hit (a leader is found
/// when the fault starts), and when it was applied and healed (ms from the run's start).
struct AppliedFault: Codable {
    var event: FaultEvent
    var appliedMs: Int
    var healedMs: Int?
    /// Set when the fault could not be applied or healed (the run goes on and says so).
    var problem: String?
}

/// Applies a run's fault schedule to the processes and the kernel, one fault at a time, and
/// heals each at its end: deletes the harness's nftables table, removes its tc qdisc,
/// restarts a killed node, SIGCONTs a paused one. `healEverything` is idempotent and also
/// registered with `Cleanup`, so an interrupted run leaves no rule behind.
final class Nemesis: Sendable {
    static let table = "periscope_chaos"
    let nodes: NodeProcesses
    let rules = NftablesRules(table: Nemesis.table)
    let clock: RunClock

    init(nodes: NodeProcesses, clock: RunClock) {
        self.nodes = nodes
        self.clock = clock
    }

    var hosts: [String] { nodes.topology.nodes.map(\.host) }

    /// Refuses what this machine cannot do, before anything starts: kernel faults need root
    /// and the tools; a loopback device with a qdisc of its own is not the harness's to replace.
    static func preflight(_ kinds: [NemesisKind], topology: Topology) throws {
        if kinds == [.regionCut] && !topology.isDeployment {
            throw HarnessError("the region-cut nemesis needs a topology of several regions (e.g. chaos/topologies/regions3x1.json)")
        }
        let needRoot = kinds.filter(\.needsRoot)
        if !needRoot.isEmpty && geteuid() != 0 {
            throw HarnessError("the nemeses \(needRoot.map(\.rawValue).joined(separator: ", ")) change kernel state (nftables, tc, tmpfs mounts) "
                + "and need root; this harness has no proxy mode. Run as root, or choose process faults only: "
                + "--nemesis kill,pause,kill-leader")
        }
        if kinds.contains(where: \.isNetwork) {
            _ = try Shell.run("nft", ["list", "tables"])
            if (try? Shell.run("nft", ["list", "table", "inet", table])) != nil {
                FileHandle.standardError.write(Data("chaos: removing table inet \(table) left by an earlier run\n".utf8))
                try Shell.run("nft", ["delete", "table", "inet", table])
            }
        }
        if kinds.contains(.diskFull) {
            guard Shell.which("mount") != nil, Shell.which("fallocate") != nil else {
                throw HarnessError("the disk-full nemesis needs mount and fallocate (util-linux)")
            }
        }
        if kinds.contains(.bandwidth) {
            let qdisc = try Shell.run("tc", ["qdisc", "show", "dev", "lo"])
            if !qdisc.hasPrefix("qdisc noqueue") {
                throw HarnessError("the loopback device already has a queueing discipline (\(qdisc.trimmingCharacters(in: .newlines))); "
                    + "the bandwidth nemesis installs and deletes its own root qdisc, so it refuses to replace it. "
                    + "Remove it (tc qdisc del dev lo root) if it is a leftover, or leave out --nemesis bandwidth")
            }
        }
    }

    /// Runs `schedule` to its end (or until cancelled, healing first).
    func run(_ schedule: FaultSchedule, log: @escaping @Sendable (String) -> Void) async -> [AppliedFault] {
        var applied: [AppliedFault] = []
        for event in schedule.events {
            do { try await clock.sleep(untilMs: event.startMs) } catch { break }
            var fault = AppliedFault(event: event, appliedMs: clock.nowMs)
            do {
                fault.event = try await apply(event)
                log("fault \(fault.event.label) at \(String(format: "%.1f", Double(fault.appliedMs) / 1_000)) s")
            } catch {
                fault.problem = "not applied: \(error)"
                log("fault \(event.label) NOT applied: \(error)")
            }
            try? await clock.sleep(untilMs: event.endMs)
            do {
                try heal(fault.event)
                fault.healedMs = clock.nowMs
                log("healed \(fault.event.label) at \(String(format: "%.1f", Double(fault.healedMs!) / 1_000)) s")
            } catch {
                fault.problem = (fault.problem.map { $0 + "; " } ?? "") + "heal failed: \(error)"
                log("heal of \(fault.event.label) FAILED: \(error)")
            }
            applied.append(fault)
            if Task.isCancelled { break }
        }
        return applied
    }

    /// Applies `event`; returns it with the node it hit filled in.
    private func apply(_ event: FaultEvent) async throws -> FaultEvent {
        var event = event
        switch event.kind {
        case .isolateOne, .split, .bridge, .lossy, .regionCut:
            guard let ruleset = rules.ruleset(for: event, hosts: hosts) else { return event }
            try Shell.run("nft", ["-f", "-"], input: ruleset)
        case .bandwidth:
            let limit = BandwidthLimit(host: hosts[event.target!], rateKbit: event.rateKbit!)
            for command in limit.installCommands { try Shell.run("tc", command) }
        case .kill:
            nodes.kill(event.target!)
        case .pause:
            nodes.pause(event.target!)
        case .diskFull:
            try nodes.fillDisk(event.target!)
        case .clockSkew:
            try nodes.setClockOffset(event.target!, seconds: event.clockOffsetSeconds!)
        case .killLeader:
            let target = try await mostLeadingNode()
            event.target = target
            nodes.kill(target)
        }
        return event
    }

    /// Undoes `event` (restarts a killed node, SIGCONTs a paused one, removes rules).
    func heal(_ event: FaultEvent) throws {
        switch event.kind {
        case .isolateOne, .split, .bridge, .lossy, .regionCut:
            try removeTable()
        case .bandwidth:
            try removeQdisc()
        case .kill, .killLeader:
            if let target = event.target, !nodes.isRunning(target) { try nodes.start(target) }
        case .pause:
            if let target = event.target { nodes.resume(target) }
        case .diskFull:
            if let target = event.target { try nodes.emptyDisk(target) }
        case .clockSkew:
            if let target = event.target { try nodes.setClockOffset(target, seconds: 0) }
        }
    }

    /// Removes the table and the qdisc if present (ignoring "not there"): the exit path.
    func healNetwork() {
        try? removeTable()
        try? removeQdisc()
    }

    private func removeTable() throws {
        guard (try? Shell.run("nft", ["list", "table", "inet", Nemesis.table])) != nil else { return }
        try Shell.run("nft", rules.deleteArguments)
    }

    private func removeQdisc() throws {
        guard let qdisc = try? Shell.run("tc", ["qdisc", "show", "dev", "lo"]), qdisc.hasPrefix("qdisc htb 1:") else { return }
        try Shell.run("tc", BandwidthLimit(host: "127.0.0.1", rateKbit: 1).removeCommand)
    }

    /// The running node that leads the most shards of the home region (the one taking the
    /// writes), as a running node's admin API says.
    private func mostLeadingNode() async throws -> Int {
        let topology = nodes.topology
        let home = topology.regions[Topology.homeRegion].nodes
        for index in home where nodes.isRunning(index) {
            guard let client = await topology.client(index, totalTimeout: .seconds(2)) else { continue }
            let status = try? await client.clusterStatus()
            await client.close()
            guard let status else { continue }
            let leaders = status.nodes.filter { $0.leaderCount > 0 }.sorted { $0.leaderCount > $1.leaderCount }
            for leader in leaders {
                if let target = home.first(where: { String(topology.nodes[$0].id) == leader.nodeID }), nodes.isRunning(target) {
                    return target
                }
            }
        }
        throw HarnessError("no running node could say which node leads")
    }
}
