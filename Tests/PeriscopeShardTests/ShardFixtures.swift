import Foundation
import PeriscopeModel
import PeriscopeStorage
import PeriscopeTestSupport
@testable import PeriscopeShard

/// A shard in a fresh temporary directory, removed when the test ends.
final class TemporaryShard {
    let path: String
    private(set) var shard: Shard
    let configuration: Shard.Configuration

    init(configuration: Shard.Configuration = Shard.Configuration(partitionScheme: .day)) throws {
        path = NSTemporaryDirectory() + "periscope-shard-" + UUID().uuidString
        self.configuration = configuration
        shard = try Shard.open(at: path, configuration: configuration)
    }

    func reopen() throws {
        try? shard.close()  // may already be closed by the test
        shard = try Shard.open(at: path, configuration: configuration)
    }

    deinit {
        try? shard.close()
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Every key of an index column family.
    func indexKeys(_ index: ShardIndex) throws -> Set<[UInt8]> {
        try shard.database.scan(in: shard.family(index.columnFamily)) { Set($0.map(\.key)) }
    }
}

let day: Int64 = 86_400 * 1_000_000_000
let epochDay: Int64 = 20_000  // 2024-10-04

func time(day offset: Int64, hour: Int64 = 0) -> Timestamp {
    Timestamp(nanosecondsSinceEpoch: (epochDay + offset) * day + hour * 3_600_000_000_000)
}

func record(_ workflowId: String, run: String = "r1", namespace: String = "ns", version: Int64 = 1,
            status: ExecutionStatus = .running, start: Timestamp = time(day: 0), close: Timestamp? = nil,
            attributes: [String: SearchAttributeValue] = [:]) -> VisibilityRecord {
    VisibilityRecord(
        key: ExecutionKey(namespaceId: namespace, workflowId: workflowId, runId: run), version: version,
        workflowType: "Type-\(workflowId.count % 3)", taskQueue: "queue", status: status, startTime: start,
        closeTime: close, executionDuration: close.map { $0.nanosecondsSinceEpoch - start.nanosecondsSinceEpoch },
        historyLength: close == nil ? nil : 12, rootWorkflowId: workflowId, rootRunId: run, memo: [1, 2, 3],
        searchAttributes: attributes)
}

/// `record` as a home region stamps it after `failoverVersion`'s failover.
func failedOver(_ record: VisibilityRecord, _ failoverVersion: Int64) -> VisibilityRecord {
    var stamped = record
    stamped.failoverVersion = failoverVersion
    return stamped
}

/// Random workloads: starts, upserts, closes and deletes of a small set of executions with
/// versions that arrive out of order, plus attribute values of every type.
struct WorkloadGenerator {
    var random: SeededRandom
    let executions: Int
    let namespaces = ["ns-a", "ns-b"]
    /// Stamped on every write, as the home region that accepted it would.
    var failoverVersion: Int64 = 0

    init(seed: UInt64, executions: Int = 40) {
        random = SeededRandom(seed: seed)
        self.executions = executions
    }

    mutating func attributes() -> [String: SearchAttributeValue] {
        var attributes: [String: SearchAttributeValue] = [:]
        if random.next() % 2 == 0 { attributes["CustomKeywordField"] = .keyword(["red", "green", "blue"].randomElement(using: &random)!) }
        if random.next() % 2 == 0 { attributes["CustomIntField"] = .int(Int64(random.next() % 50) - 10) }
        if random.next() % 3 == 0 { attributes["CustomDoubleField"] = .double(Double(random.next() % 1000) / 7) }
        if random.next() % 3 == 0 { attributes["CustomBoolField"] = .bool(random.next() % 2 == 0) }
        if random.next() % 3 == 0 { attributes["CustomDatetimeField"] = .datetime(time(day: Int64(random.next() % 5))) }
        if random.next() % 3 == 0 {
            attributes["CustomTextField"] = .text(["quick brown fox", "lazy dog", "Brown dog!", ""].randomElement(using: &random)!)
        }
        if random.next() % 3 == 0 {
            let count = Int(random.next() % 4)
            attributes["BuildIds"] = .keywordList((0..<count).map { _ in ["v1", "v2", "v3"].randomElement(using: &random)! })
        }
        return attributes
    }

    mutating func command() -> ShardCommand {
        let index = Int(random.next() % UInt64(executions))
        let namespace = namespaces[index % namespaces.count]
        let workflowId = "wf-\(index)"
        let version = Int64(random.next() % 20)
        let start = time(day: Int64(random.next() % 3), hour: Int64(random.next() % 24))
        let fv = failoverVersion
        switch random.next() % 10 {
        case 0..<3:
            return .start(failedOver(record(workflowId, namespace: namespace, version: version, start: start, attributes: attributes()), fv))
        case 3..<5:
            return .upsert(failedOver(record(workflowId, namespace: namespace, version: version, start: start, attributes: attributes()), fv))
        case 5..<8:
            let close = Timestamp(nanosecondsSinceEpoch: start.nanosecondsSinceEpoch + Int64(random.next() % UInt64(3 * day)))
            return .close(failedOver(record(workflowId, namespace: namespace, version: version,
                                            status: [.completed, .failed, .terminated].randomElement(using: &random)!,
                                            start: start, close: close, attributes: attributes()), fv))
        default:
            return .delete(ExecutionKey(namespaceId: namespace, workflowId: workflowId, runId: "r1"), version: version,
                           at: time(day: Int64(random.next() % 4)), failoverVersion: fv)
        }
    }

    mutating func entry() -> ShardCommand {
        guard random.next() % 5 == 0 else { return command() }
        return .batch((0..<Int(1 + random.next() % 4)).map { _ in command() })
    }
}

/// An independent model of the version rules: the expected live records after each entry.
/// Versions compare as (failover version, version) pairs; a start replaces only a state
/// stored under an older failover version.
struct ModelStore {
    enum State: Equatable { case live(VisibilityRecord), tombstone(Int64, bucket: Int64, failover: Int64) }
    var states: [ExecutionKey: State] = [:]
    var horizons: [String: Int64] = [:]
    var fences: [String: Int64] = [:]
    var cursors: [UInt32: UInt64] = [:]
    let scheme: PartitionScheme

    private func version(_ state: State) -> (Int64, Int64) {
        switch state {
        case .live(let record): (record.failoverVersion, record.version)
        case .tombstone(let version, _, let failover): (failover, version)
        }
    }

    private func isExpired(_ state: State, _ namespace: String) -> Bool {
        guard let horizon = horizons[namespace] else { return false }
        switch state {
        case .live(let record): return record.closeTime.map { scheme.bucket(of: $0) <= horizon } ?? false
        case .tombstone(_, let bucket, _): return bucket <= horizon
        }
    }

    func current(_ key: ExecutionKey) -> State? {
        guard let state = states[key], !isExpired(state, key.namespaceId) else { return nil }
        return state
    }

    mutating func apply(_ command: ShardCommand) {
        switch command {
        case .batch(let commands): commands.forEach { apply($0) }
        case .start(let record):
            if let state = current(record.key), version(state).0 >= record.failoverVersion { return }
            states[record.key] = .live(record)
        case .upsert(let record), .close(let record):
            if let state = current(record.key), version(state) >= (record.failoverVersion, record.version) { return }
            states[record.key] = .live(record)
        case .delete(let key, let newVersion, let time, let failover):
            if let state = current(key), version(state) >= (failover, newVersion) { return }
            states[key] = .tombstone(newVersion, bucket: scheme.bucket(of: time), failover: failover)
        case .expire(let namespace, let closedBefore):
            horizons[namespace] = max(horizons[namespace] ?? .min, scheme.bucket(of: closedBefore) - 1)
        case .replicable(_, let commands):
            for command in commands {
                let (namespace, failover): (String, Int64) = switch command {
                case .start(let r), .upsert(let r), .close(let r): (r.key.namespaceId, r.failoverVersion)
                case .delete(let key, _, _, let failover): (key.namespaceId, failover)
                default: ("", 0)
                }
                if let fence = fences[namespace], failover <= fence { continue }
                apply(command)
            }
        case .replicated(let batch):
            if batch.through != 0, batch.through <= cursors[batch.origin] ?? 0 { return }
            batch.commands.forEach { apply($0) }
            if batch.through != 0 { cursors[batch.origin] = batch.through }
        case .fence(let namespace, let through):
            fences[namespace] = through
        case .trimOutbox:
            break
        }
    }

    var liveRecords: [VisibilityRecord] {
        states.keys.compactMap { key in
            if case .live(let record)? = current(key) { return record }
            return nil
        }
    }

    /// Whether an index key lies in a partition this model's retention dropped.
    func isExpired(indexKey: [UInt8]) -> Bool {
        guard let elements = try? KeyDecoder.decode(indexKey).map(\.0), case .string(let namespace) = elements[0],
              let horizon = horizons[namespace], case .closed(let bucket)? = Partition(elements[1]) else { return false }
        return bucket <= horizon
    }

    /// The index keys the live records should have.
    func expectedKeys(_ index: ShardIndex) -> Set<[UInt8]> {
        Set(liveRecords.flatMap { IndexEntries($0, scheme: scheme)[index] })
    }
}
