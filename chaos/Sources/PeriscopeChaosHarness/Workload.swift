import Foundation
import PeriscopeAPI
import PeriscopeChaos
import PeriscopeClient
import PeriscopeRaft
import SwiftProtobuf
import Synchronization

/// The run's clients: each a seeded loop of writes (starts, upserts, closes, deletes, retried
/// duplicates and deliberately stale versions) and reads (strong, read-your-writes and
/// eventual point reads, counts) on a small key space so that operations on one execution
/// overlap, plus scanners paging through the namespace slowly enough to span faults. Every
/// operation goes into the history with its invocation, completion and outcome.
///
/// In a deployment of regions, clients are spread over every region's nodes; each stays in
/// its region. Writes from any region go to the namespace's home. Reads outside the home
/// region are asked for as eventual, because that is what they are (replication between
/// regions is asynchronous), and read-your-writes tokens are used only in the region that
/// issued them; scanners page in the home region.
struct Workload: Sendable {
    struct Options: Sendable {
        var seed: UInt64
        var clients: Int
        var scanners: Int
        var keys: Int
        var namespace: String
        /// Pause between a client's operations (keeps a debug cluster on 2 cores responsive).
        var thinkMs: ClosedRange<Int> = 5...25
        var scanPageSize = 10
        var scanPagePauseMs = 150
    }

    let options: Options
    let topology: Topology
    let clock: RunClock
    let history: HistoryLog
    let versions = VersionCounter()

    static let workflowType = "chaos"
    static let runID = "run"

    func key(_ index: Int) -> String { "wf-\(index)" }

    /// Runs every client until `untilMs`.
    func run(untilMs: Int) async {
        await withTaskGroup(of: Void.self) { group in
            for client in 0..<options.clients {
                group.addTask { await runClient(client, untilMs: untilMs) }
            }
            for scanner in 0..<options.scanners {
                group.addTask { await runScanner(options.clients + scanner, untilMs: untilMs) }
            }
        }
    }

    /// The nodes `client` may be seeded at, in the order it tries them: point-operation
    /// client i starts at node i mod n, scanner j at the home region's node j mod m; each
    /// falls back to the other nodes of its own region.
    func candidates(_ client: Int) -> [Int] {
        let isScanner = client >= options.clients
        let first = isScanner ? topology.regions[Topology.homeRegion].nodes[(client - options.clients) % topology.regions[Topology.homeRegion].nodes.count]
            : client % topology.nodes.count
        let region = topology.regions[topology.nodes[first].region].nodes
        let start = region.firstIndex(of: first)!
        return (0..<region.count).map { region[(start + $0) % region.count] }
    }

    /// A client for `client`'s first reachable candidate node.
    func connect(_ client: Int) async -> (PeriscopeClient, Int)? {
        for index in candidates(client) {
            if let connected = await topology.client(index, totalTimeout: .seconds(5), callTimeout: .seconds(2)) {
                return (connected, index)
            }
        }
        return nil
    }

    // MARK: Point operations

    private struct ClientState {
        var random: SeededRandom
        /// The last write sent (a duplicate resends it).
        var lastWrite: (HistoryOperation.Kind, String, Int64)?
        /// Per key: the version and token of this client's newest acknowledged write that applied.
        var acknowledged: [String: (Int64, [UInt8])] = [:]
    }

    /// Calls `body` with client `id`'s connection and its node until `untilMs`; while no
    /// node can be reached, retries every 200 ms.
    private func repeatedly(_ id: Int, untilMs: Int, _ body: (PeriscopeClient, Int) async -> Void) async {
        var connection = await connect(id)
        while clock.nowMs < untilMs {
            guard let (client, node) = connection else {
                try? await Task.sleep(for: .milliseconds(200))
                connection = await connect(id)
                continue
            }
            await body(client, node)
        }
        await connection?.0.close()
    }

    private func runClient(_ id: Int, untilMs: Int) async {
        var state = ClientState(random: SeededRandom(seed: options.seed &* 1_000_003 &+ UInt64(id)))
        await repeatedly(id, untilMs: untilMs) { client, node in
            let roll = Int.random(in: 0..<100, using: &state.random)
            let key = key(Int.random(in: 0..<options.keys, using: &state.random))
            let home = topology.isHome(node)
            switch roll {
            case 0..<14: await write(.start, key, versions.next(), client, node, id, &state)
            case 14..<36: await write(.upsert, key, versions.next(), client, node, id, &state)
            case 36..<44: await write(.close, key, versions.next(), client, node, id, &state)
            case 44..<47: await write(.delete, key, versions.next(), client, node, id, &state)
            case 47..<51:
                if let (kind, key, version) = state.lastWrite { await write(kind, key, version, client, node, id, &state) }
            case 51..<54:
                if let (version, _) = state.acknowledged[key], version > 1 { await write(.upsert, key, version - 1, client, node, id, &state) }
            case 54..<84: await read(key, home ? .strong : .eventual, nil, client, node, id)
            case 84..<92:
                if let (mine, (version, token)) = state.acknowledged.randomElement(using: &state.random) {
                    if home { await read(mine, .readYourWrites(token), version, client, node, id) } else { await read(mine, .eventual, nil, client, node, id) }
                }
            case 92..<97: await read(key, .eventual, nil, client, node, id)
            default: await count(home ? .strong : .eventual, client, node, id)
            }
            try? await Task.sleep(for: .milliseconds(Int.random(in: options.thinkMs, using: &state.random)))
        }
    }

    private func write(_ kind: HistoryOperation.Kind, _ key: String, _ version: Int64, _ client: PeriscopeClient, _ node: Int,
                       _ id: Int, _ state: inout ClientState) async {
        state.lastWrite = (kind, key, version)
        var operation = HistoryOperation(client: id, kind: kind, key: key, version: version, invokedNanoseconds: clock.nowNs,
                                         completedNanoseconds: nil, outcome: .unknown)
        operation.node = node
        do {
            let result: WriteResult
            switch kind {
            case .start: result = try await client.recordStarted(namespace: options.namespace, execution(key, version, .running))
            case .upsert: result = try await client.upsert(namespace: options.namespace, execution(key, version, .running))
            case .close: result = try await client.recordClosed(namespace: options.namespace, execution(key, version, .completed))
            default: result = try await client.delete(namespace: options.namespace, workflowID: key, runID: Self.runID, version: version)
            }
            operation.outcome = .ok
            operation.applied = result.applied
            // A write that changed nothing (a start of an existing execution, a stale version)
            // promises only what was already there: a later read need not show its version.
            if result.applied, (state.acknowledged[key]?.0 ?? .min) < version { state.acknowledged[key] = (version, result.consistencyToken) }
        } catch {
            // Retried attempts may have reached a log before the one that failed: only a
            // refusal the request itself earns is definite.
            operation.outcome = [.invalidArgument, .alreadyExists, .notFound].contains(error.code) ? .failed : .unknown
            operation.error = error.description
        }
        operation.completedNanoseconds = clock.nowNs
        history.append(operation)
    }

    private func read(_ key: String, _ consistency: Consistency, _ required: Int64?, _ client: PeriscopeClient, _ node: Int, _ id: Int) async {
        var operation = HistoryOperation(client: id, kind: .read, key: key, invokedNanoseconds: clock.nowNs, completedNanoseconds: nil,
                                         outcome: .failed)
        operation.node = node
        operation.requiredVersion = required
        operation.consistency = switch consistency {
        case .strong: .strong
        case .eventual: .eventual
        case .readYourWrites: .readYourWrites
        }
        do {
            let found = try await client.execution(namespace: options.namespace, workflowID: key, runID: Self.runID, consistency: consistency)
            operation.version = found?.version
            operation.outcome = .ok
        } catch {
            operation.error = error.description
        }
        operation.completedNanoseconds = clock.nowNs
        history.append(operation)
    }

    private func count(_ consistency: Consistency, _ client: PeriscopeClient, _ node: Int, _ id: Int) async {
        var operation = HistoryOperation(client: id, kind: .count, invokedNanoseconds: clock.nowNs, completedNanoseconds: nil, outcome: .failed)
        operation.node = node
        operation.consistency = consistency == .strong ? .strong : .eventual
        do {
            let result = try await client.count(namespace: options.namespace, query: "WorkflowType = '\(Self.workflowType)' GROUP BY ExecutionStatus",
                                                consistency: consistency)
            operation.count = result.count
            operation.outcome = .ok
        } catch {
            operation.error = error.description
        }
        operation.completedNanoseconds = clock.nowNs
        history.append(operation)
    }

    // MARK: Scans

    /// Pages through every execution of the workflow type, slowly, again and again: each
    /// scan's keys (repeats included) go into the history for the paging checker.
    private func runScanner(_ id: Int, untilMs: Int) async {
        await repeatedly(id, untilMs: untilMs) { client, node in
            var operation = HistoryOperation(client: id, kind: .scan, invokedNanoseconds: clock.nowNs, completedNanoseconds: nil,
                                             outcome: .ok)
            operation.node = node
            operation.consistency = .strong
            var keys: [String] = []
            var token: [UInt8]?
            var lost = false
            repeat {
                do {
                    let page = try await client.list(namespace: options.namespace, query: "WorkflowType = '\(Self.workflowType)'",
                                                     pageSize: options.scanPageSize, pageToken: token,
                                                     consistency: token == nil ? .strong : .eventual)
                    keys += page.executions.map(\.workflowID)
                    lost = lost || page.pointInTimeLost
                    token = page.nextPageToken
                } catch {
                    operation.outcome = .failed
                    operation.error = "page \(keys.count / options.scanPageSize + 1): \(error)"
                    break
                }
                if token != nil { try? await Task.sleep(for: .milliseconds(options.scanPagePauseMs)) }
            } while token != nil
            operation.scanKeys = keys
            operation.pointInTimeLost = lost
            operation.completedNanoseconds = clock.nowNs
            history.append(operation)
        }
    }

    // MARK: Records

    private func execution(_ key: String, _ version: Int64, _ status: Periscope_V1_ExecutionStatus) -> Execution {
        let now = Date()
        return .with {
            $0.workflowID = key
            $0.runID = Self.runID
            $0.version = version
            $0.workflowType = Self.workflowType
            $0.taskQueue = "chaos-queue"
            $0.status = status
            $0.startTime = Google_Protobuf_Timestamp(date: now.addingTimeInterval(-60))
            $0.executionTime = $0.startTime
            if status != .running {
                $0.closeTime = Google_Protobuf_Timestamp(date: now)
                $0.historyLength = version
            }
        }
    }
}

/// Versions for writes: one counter for the run, so every new write's version is unique and
/// larger than any sent before it (concurrent writes still arrive in any order).
final class VersionCounter: Sendable {
    private let last = Mutex<Int64>(0)
    func next() -> Int64 { last.withLock { $0 += 1; return $0 } }
}

/// The run's history, appended to by every client.
final class HistoryLog: Sendable {
    private let operations = Mutex<[HistoryOperation]>([])
    func append(_ operation: HistoryOperation) { operations.withLock { $0.append(operation) } }
    var all: [HistoryOperation] { operations.withLock { $0 } }
}
