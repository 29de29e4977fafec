import ArgumentParser
import Foundation
import PeriscopeChaos

/// `periscope-chaos`: seeded fault injection against a real region of `periscope` node
/// processes, with checkers that judge the history (see docs/reliability.md).
@main
struct ChaosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "periscope-chaos",
        abstract: "Run a Periscope region (or a deployment of regions) under a seeded workload and fault schedule, then check that nothing acknowledged was lost.",
        discussion: """
            For each seed: starts one `periscope node start` per node of the topology (each on its own \
            loopback address, data and logs in the run's directory), makes them a region (or, with a \
            "regions" topology, a deployment whose first region is the workload namespace's home; reads \
            outside the home region are eventual), runs concurrent \
            clients (writes with versions, retried and stale writes, strong / read-your-writes / eventual \
            reads, counts, slow paginated scans) while the seed's faults are applied one at a time and \
            healed, then waits for convergence and runs the checkers: acknowledged writes (through every \
            node), replica digests (in each region, and the namespace's across regions), index \
            verification, linearizability of strong reads, read-your-writes, \
            paging, availability after each heal, and that no node crashed. The same seed gives the same \
            fault schedule and the same client choices.

            Nemeses: isolate-one, split, bridge, lossy (nftables rules in the harness's own table `inet \
            periscope_chaos`, deleted to heal and on exit, SIGINT included), bandwidth (tc htb on lo), kill \
            (-9, restarted at the heal), kill-leader (the node leading the most shards, asked of the admin \
            API), pause (SIGSTOP, SIGCONT at the heal), disk-full (a ballast file fills the node's data \
            directory, a tmpfs of --node-disk-mb each; deleted at the heal), clock-skew (a node's wall clock \
            set seconds or days off through its --unsafe-clock-offset-file; retention then runs every 2 s), \
            region-cut (every link between one region's nodes and the others'; deployments only). Kernel faults and disk-full \
            need root; there is no proxy mode: \
            without root, choose kill, kill-leader, pause and clock-skew. Delay and reordering (netem) are not in this \
            machine's kernel and are not offered.

            Each run writes report.txt, report.json, history.jsonl and plot.svg under --output. \
            Exit status: 0 every checker passed for every seed; 1 a checker failed; 2 the harness could \
            not run (a bad topology file, no root for a kernel nemesis, the region did not form); 64 a \
            bad option.
            """
    )

    @Option(help: "A region's topology file (each node on its own IPv4 address), or a deployment's (\"regions\": chaos/topologies/regions3x1.json, regions2x3.json).")
    var topology = "chaos/topologies/region3.json"

    @Option(help: "Seeds to run, one after another: '7', '1,5,9' or '1-20'.")
    var seeds = "1"

    @Option(help: "Seconds of workload and faults per seed.")
    var duration: Double = 60

    @Option(help: "Nemeses, comma-separated, or 'all': \(NemesisKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var nemesis = "all"

    @Option(help: "Concurrent point-operation clients.")
    var clients = 6

    @Option(help: "Concurrent slow paginated scanners.")
    var scanners = 2

    @Option(help: "Executions the workload writes (few keys: operations on one overlap).")
    var keys = 40

    @Option(help: "Seconds within which writes must be acknowledged again after each heal.")
    var recoveryBound: Double = 30

    @Option(help: "Where each run's directory goes.")
    var output = "chaos/runs"

    @Option(help: "The periscope binary (default: the one beside this executable).")
    var periscope: String?

    @Option(help: "Extra options for every `periscope node start`, space-separated; written --node-args=\"--opt value\" (a value that begins with -- needs the =).")
    var nodeArgs = ""

    @Option(help: "With the disk-full nemesis: each node's data directory is a tmpfs of this many MiB (a node needs ~600).")
    var nodeDiskMb = 1536

    @Option(help: "Print the table of the runs already under this directory (their report.json) and exit.")
    var summarize: String?

    @Flag(help: "Keep the nodes' data directories of passing runs (failing runs always keep them, except tmpfs ones).")
    var keepData = false

    func validate() throws {
        _ = try parsedSeeds()
        _ = try parsedNemeses()
        guard duration >= 5 else { throw ValidationError("--duration must be at least 5 seconds; got \(duration)") }
        guard clients >= 1, scanners >= 0, keys >= 1 else { throw ValidationError("--clients and --keys must be at least 1, --scanners at least 0") }
    }

    func parsedSeeds() throws -> [UInt64] {
        var seeds: [UInt64] = []
        for part in self.seeds.split(separator: ",") {
            let bounds = part.split(separator: "-", maxSplits: 1).map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
            switch bounds.count {
            case 1 where bounds[0] != nil: seeds.append(bounds[0]!)
            case 2 where bounds[0] != nil && bounds[1] != nil && bounds[0]! <= bounds[1]!: seeds += Array(bounds[0]!...bounds[1]!)
            default: throw ValidationError("--seeds: '\(part)' is not a seed or a range like 1-20")
            }
        }
        guard !seeds.isEmpty else { throw ValidationError("--seeds: no seed given") }
        return seeds
    }

    func parsedNemeses() throws -> [NemesisKind] {
        if nemesis == "all" { return NemesisKind.allCases }
        return try nemesis.split(separator: ",").map { name in
            guard let kind = NemesisKind(rawValue: String(name)) else {
                throw ValidationError("--nemesis: unknown nemesis '\(name)'; known: all, \(NemesisKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return kind
        }
    }

    func run() async throws {
        let log: @Sendable (String) -> Void = { line in
            FileHandle.standardError.write(Data("chaos: \(line)\n".utf8))
        }
        if let summarize {
            let reports = try RunReport.load(under: summarize)
            guard !reports.isEmpty else {
                log("error: no report.json under \(summarize)")
                throw ExitCode(2)
            }
            print(RunReport.table(reports))
            if reports.contains(where: { !$0.passed }) { throw ExitCode(1) }
            return
        }
        let kinds = try parsedNemeses()
        let settings: ChaosRun.Settings
        do {
            let topology = try Topology.load(self.topology)
            try Nemesis.preflight(kinds, topology: topology)
            let binary = periscope ?? (CommandLine.arguments[0] as NSString).deletingLastPathComponent + "/periscope"
            guard FileManager.default.isExecutableFile(atPath: binary) else {
                throw HarnessError("no periscope binary at \(binary) (build it: swift build --product periscope, or pass --periscope)")
            }
            settings = ChaosRun.Settings(binary: binary, topologyPath: self.topology, topology: topology,
                                         durationMs: Int(duration * 1_000), nemeses: kinds, clients: clients, scanners: scanners,
                                         keys: keys, recoveryBoundSeconds: recoveryBound,
                                         nodeArguments: nodeArgs.split(separator: " ").map(String.init),
                                         outputDirectory: output, keepData: keepData, nodeDiskMegabytes: nodeDiskMb)
        } catch let error as HarnessError {
            log("error: \(error)")
            throw ExitCode(2)
        }
        Cleanup.shared.installSignalHandlers()
        defer { Cleanup.shared.runAll() }

        var reports: [RunReport] = []
        for seed in try parsedSeeds() {
            do {
                let report = try await ChaosRun(settings: settings, seed: seed, log: log).execute()
                reports.append(report)
                print(report.text)
            } catch {
                log("error: seed \(seed): \(error)")
                Cleanup.shared.runAll()
                throw ExitCode(2)
            }
        }
        if reports.count > 1 { print(RunReport.table(reports)) }
        if reports.contains(where: { !$0.passed }) { throw ExitCode(1) }
    }
}
