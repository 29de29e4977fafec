import Foundation
import PeriscopeAPI
import PeriscopeChaos
import PeriscopeClient

/// After the workload: a probe until writes are taken again, convergence of every shard's
/// replicas, final strong reads of every key through every node, each node's index
/// verification, then every checker over the history.
struct Checks {
    let topology: Topology
    let nodes: NodeProcesses
    let clock: RunClock
    let namespace: String
    let log: @Sendable (String) -> Void

    struct Verdicts {
        var history: [HistoryOperation]
        var results: [CheckResult]
        var recoverySeconds: [Double?]
    }

    static let probeKey = "probe"
    /// Client ids of operations the harness itself makes after the workload.
    static let probeClient = 10_000
    static func finalReader(_ node: Int) -> Int { 20_000 + node }

    func run(history log: HistoryLog, faults: [AppliedFault], recoveryBoundSeconds: Double) async -> Verdicts {
        var results: [CheckResult] = []
        results.append(crashes(when: "during the run"))
        await probe(log, boundSeconds: recoveryBoundSeconds)

        var recoveries: [Double?] = []
        var availabilityEvidence: [String] = []
        let operations = log.all
        for fault in faults {
            guard let healed = fault.healedMs else {
                availabilityEvidence.append("\(fault.event.label): never healed (\(fault.problem ?? "?"))")
                recoveries.append(nil)
                continue
            }
            let (result, seconds) = AvailabilityChecker.check(operations, healedAtNanoseconds: Int64(healed) * 1_000_000,
                                                              boundSeconds: recoveryBoundSeconds)
            recoveries.append(seconds)
            if !result.passed { availabilityEvidence += result.evidence.map { "\(fault.event.label) healed at \(healed) ms: \($0)" } }
        }
        let measured = recoveries.compactMap { $0 }.sorted()
        results.append(CheckResult(checker: AvailabilityChecker.name, passed: availabilityEvidence.isEmpty, evidence: availabilityEvidence,
                                   summary: measured.isEmpty ? "no fault healed" : "writes acknowledged again after each of \(faults.count) heals: "
                                       + "median \(Self.seconds(measured[measured.count / 2])), max \(Self.seconds(measured.last!)) "
                                       + "(bound \(Self.seconds(recoveryBoundSeconds)))"))

        results += await convergence()
        let keys = Set(log.all.filter { $0.kind.isWrite }.map(\.key)).sorted()
        var finalVersions: [String: Int64?] = [:]
        for node in topology.nodes.indices {
            let final = await finalReads(keys, through: node, into: log)
            if node == 0 { finalVersions = final.versions }
            var result = AcknowledgedWritesChecker.check(log.all, final: final.versions)
            result.checker += " (read through \(topology.nodes[node].name))"
            if !final.unread.isEmpty {
                result.passed = false
                result.evidence.insert("\(final.unread.count) keys could not be read: \(final.unread.prefix(5).joined(separator: ", "))", at: 0)
            }
            results.append(result)
        }
        results.append(await indexes())
        results.append(FinalCountsChecker.check(log.all, final: finalVersions.filter { $0.key != Self.probeKey }, counts: await counts()))
        let history = log.all
        results.append(LinearizabilityChecker.check(history))
        results.append(ReadYourWritesChecker.check(history))
        results.append(PagingChecker.check(history))
        results.append(crashes(when: "by the end"))
        for result in results { self.log("  \(result.passed ? "PASS" : "FAIL") \(result.checker): \(result.summary)") }
        return Verdicts(history: history.sorted { $0.invokedNanoseconds < $1.invokedNanoseconds }, results: results,
                        recoverySeconds: recoveries)
    }

    private func crashes(when: String) -> CheckResult {
        let crashed = nodes.crashed()
        return CheckResult(checker: "no node crashed \(when)", passed: crashed.isEmpty,
                           evidence: crashed.map { "node \(topology.nodes[$0.0].name) exited on its own with status \($0.1); see \(nodes.logPath($0.0))" },
                           summary: crashed.isEmpty ? "every node the harness did not kill is running" : "\(crashed.count) crashed")
    }

    /// Upserts one key every 100 ms after the workload until one is acknowledged (or the
    /// bound passes), so that the last fault's recovery is measured too.
    private func probe(_ log: HistoryLog, boundSeconds: Double) async {
        let deadline = ContinuousClock.now + .milliseconds(Int64(boundSeconds * 1_000))
        var version: Int64 = 1
        while ContinuousClock.now < deadline {
            for node in topology.nodes.indices {
                guard let client = await topology.client(node, totalTimeout: .seconds(2)) else { continue }
                var operation = HistoryOperation(client: Self.probeClient, kind: .upsert, key: Self.probeKey, version: version,
                                                 invokedNanoseconds: clock.nowNs, completedNanoseconds: nil, outcome: .unknown)
                operation.node = node
                version += 1
                do {
                    let result = try await client.upsert(namespace: namespace, .with {
                        $0.workflowID = Self.probeKey
                        $0.runID = Workload.runID
                        $0.version = operation.version!
                        $0.workflowType = "probe"
                        $0.taskQueue = "chaos-queue"
                        $0.status = .running
                        $0.startTime = .init(date: Date())
                        $0.executionTime = $0.startTime
                    })
                    operation.outcome = .ok
                    operation.applied = result.applied
                } catch {
                    operation.error = error.description
                }
                operation.completedNanoseconds = clock.nowNs
                log.append(operation)
                await client.close()
                if operation.outcome == .ok { return }
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Waits (up to 90 s) until every shard's replicas in each region have applied the same
    /// index and, in a deployment, every node holds the same digest of the namespace, then
    /// compares: one verdict per region, and one across regions.
    private func convergence() async -> [CheckResult] {
        let deadline = ContinuousClock.now + .seconds(90)
        var samples: [ReplicaDigestSample] = []
        var namespaceSamples: [ReplicaDigestSample] = []
        repeat {
            samples = []
            namespaceSamples = []
            for node in topology.nodes.indices {
                guard let client = await client(node) else { continue }
                let digests = try? await client.replicaDigests()
                let namespaceDigests = topology.isDeployment ? try? await client.replicaDigests(namespace: namespace) : nil
                await client.close()
                samples += (digests?.replicas ?? []).map {
                    ReplicaDigestSample(node: node, shard: $0.shardID, appliedIndex: $0.appliedIndex, sha256: $0.sha256, entries: $0.entries)
                }
                // Log positions differ between regions: only the executions are compared.
                namespaceSamples += (namespaceDigests?.replicas ?? []).map {
                    ReplicaDigestSample(node: node, shard: $0.shardID, appliedIndex: 0, sha256: $0.sha256, entries: $0.entries)
                }
            }
            let byRegionShard = Dictionary(grouping: samples) { [topology.nodes[$0.node].region, Int($0.shard)] }
            let regionsSettled = Set(samples.map(\.node)).count == topology.nodes.count
                && byRegionShard.values.allSatisfy { Set($0.map(\.appliedIndex)).count == 1 }
            let namespaceSettled = !topology.isDeployment || (Set(namespaceSamples.map(\.node)).count == topology.nodes.count
                && Dictionary(grouping: namespaceSamples, by: \.shard).values.allSatisfy { Set($0.map(\.sha256)).count == 1 })
            if regionsSettled && namespaceSettled { break }
            try? await Task.sleep(for: .milliseconds(500))
        } while ContinuousClock.now < deadline
        var results: [CheckResult] = []
        for (index, region) in topology.regions.enumerated() {
            var result = ConvergenceChecker.check(samples.filter { topology.nodes[$0.node].region == index }, nodes: region.nodes)
            if topology.isDeployment { result.checker += " (region \(region.name))" }
            results.append(result)
        }
        if topology.isDeployment {
            var result = ConvergenceChecker.check(namespaceSamples, nodes: Array(topology.nodes.indices))
            result.checker += " across regions (namespace \(namespace))"
            results.append(result)
        }
        return results
    }

    /// Strong reads of every key through node `node` (each retried a few times), recorded
    /// in the history; keys that could not be read are returned apart.
    private func finalReads(_ keys: [String], through node: Int, into log: HistoryLog) async -> (versions: [String: Int64?], unread: [String]) {
        var versions: [String: Int64?] = [:]
        var unread: [String] = []
        guard let client = await client(node) else { return ([:], keys) }
        for key in keys {
            var read = false
            for _ in 0..<5 where !read {
                var operation = HistoryOperation(client: Self.finalReader(node), kind: .read, key: key, invokedNanoseconds: clock.nowNs,
                                                 completedNanoseconds: nil, outcome: .failed)
                operation.consistency = .strong
                operation.node = node
                do {
                    let found = try await client.execution(namespace: namespace, workflowID: key, runID: Workload.runID, consistency: .strong)
                    operation.version = found?.version
                    operation.outcome = .ok
                    versions[key] = .some(found?.version)
                    read = true
                } catch {
                    operation.error = error.description
                    try? await Task.sleep(for: .milliseconds(200))
                }
                operation.completedNanoseconds = clock.nowNs
                log.append(operation)
            }
            if !read { unread.append(key) }
        }
        await client.close()
        return (versions, unread)
    }

    /// Every node's index verification of every shard replica (retried while a replica's
    /// indexer is mid-batch).
    private func indexes() async -> CheckResult {
        var evidence: [String] = []
        var checked = 0
        for node in topology.nodes.indices {
            let name = topology.nodes[node].name
            guard let client = await client(node) else { evidence.append("\(name): unreachable"); continue }
            let deadline = ContinuousClock.now + .seconds(30)
            var last: Result<Periscope_V1_IndexVerification, any Error> = .failure(HarnessError("not asked"))
            while ContinuousClock.now < deadline {
                do {
                    let verification = try await client.verifyIndexes()
                    last = .success(verification)
                    if verification.shards.allSatisfy({ $0.error.isEmpty }) { break }
                } catch {
                    last = .failure(error)
                }
                try? await Task.sleep(for: .milliseconds(300))
            }
            await client.close()
            switch last {
            case .failure(let error): evidence.append("\(name): verification failed: \(error)")
            case .success(let verification):
                for shard in verification.shards {
                    checked += 1
                    if !shard.error.isEmpty {
                        evidence.append("\(name) shard \(shard.shardID): not verified: \(shard.error)")
                    } else if !shard.consistent {
                        evidence.append("\(name) shard \(shard.shardID): INCONSISTENT at \(shard.watermark): "
                            + (shard.entryCounts + shard.differences).joined(separator: "; "))
                    }
                }
            }
        }
        return CheckResult(checker: "indexes", passed: evidence.isEmpty, evidence: evidence,
                           summary: "\(checked) shard replicas' indexes recomputed from their records")
    }

    /// A strong count of the workload's executions by status through every node (each
    /// retried a few times); nodes that could not count are left out (and the checker says so
    /// when none could).
    private func counts() async -> [FinalCountsChecker.NodeCount] {
        var counts: [FinalCountsChecker.NodeCount] = []
        for node in topology.nodes.indices {
            guard let client = await client(node) else { continue }
            for _ in 0..<5 {
                if let result = try? await client.count(namespace: namespace, query: "WorkflowType = '\(Workload.workflowType)' GROUP BY ExecutionStatus",
                                                        consistency: .strong) {
                    var byStatus: [String: Int64] = [:]
                    for group in result.groups {
                        let value = group.values.first.map { value -> String in
                            switch value.value {
                            case .keyword(let text)?, .text(let text)?: text
                            default: "\(value)"
                            }
                        } ?? "(none)"
                        byStatus[value, default: 0] += group.count
                    }
                    counts.append(.init(node: topology.nodes[node].name, total: result.count, byStatus: byStatus))
                    break
                }
                try? await Task.sleep(for: .milliseconds(200))
            }
            await client.close()
        }
        return counts
    }

    private func client(_ node: Int) async -> PeriscopeClient? { await topology.client(node, totalTimeout: .seconds(10)) }

    static func seconds(_ value: Double) -> String { String(format: "%.2f s", value) }
}
