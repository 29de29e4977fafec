import Foundation
import NIOPosix
import PeriscopeAPI
import PeriscopeClient
import PeriscopeModel
import PeriscopePostgres
import Synchronization

/// Follows the source's changes from the migration's slot and applies them to Periscope,
/// each with its WAL position as its order; confirms a position to the server only once
/// every change before it is applied, and records it in the migration's state, so a restart
/// (kill -9 included) streams again from there. Runs on a thread of its own: libpq blocks.
public final class Capture: Sendable {
    public struct Options: Sendable {
        /// Changes applied per ImportWrites call, at most.
        public var batchChanges = 500
        /// How often the position is confirmed to the server and saved.
        public var confirmInterval: Duration = .seconds(1)
        /// With nothing heard from the server for half this long, a confirmation asks it to
        /// answer; with nothing for this long, the connection is taken as gone and the capture
        /// stops with an error (a connection can die without closing: a partition, a hung server).
        public var silenceMax: Duration = .seconds(30)
        public init() {}
    }

    /// When to stop.
    public enum Until: Sendable {
        /// Once everything the source had written when the capture started is applied.
        case caughtUp
        /// After this long (or `stop()`).
        case duration(Duration)
        /// Only on `stop()`.
        case stopped
    }

    /// What the capture has done and how far behind it is.
    public struct Progress: Sendable, Equatable {
        public var applied: LSN = .zero
        public var serverEnd: LSN = .zero
        public var changesApplied = 0
        /// Seconds between the last applied transaction's commit at the source and its apply here.
        public var lagSeconds: Double = 0
        /// Every applied transaction's lag, commit at the source to acknowledged by Periscope.
        public var lags = LagHistogram()
    }

    let conninfo: String
    let store: MigrationStore
    let options: Options
    private let state: Mutex<MigrationState>
    private let progressState = Mutex(Progress())
    private let stopping = Atomic<Bool>(false)

    public init(conninfo: String, store: MigrationStore, state: MigrationState, options: Options = Options()) {
        self.conninfo = conninfo
        self.store = store
        self.options = options
        self.state = Mutex(state)
    }

    public var progress: Progress { progressState.withLock { $0 } }
    public var current: MigrationState { state.withLock { $0 } }
    public func stop() { stopping.store(true, ordering: .relaxed) }

    public func run(until: Until) async throws -> MigrationState {
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        defer { thread.shutdownGracefully { _ in } }
        try await thread.runIfActive { try self.stream(until: until) }
        return current
    }

    /// The blocking loop: receive, decode, apply in batches, confirm.
    private func stream(until: Until) throws {
        let (slot, publication, start) = state.withLock { ($0.slot, $0.publication, $0.confirmedLSN) }
        let lookup = try PostgresConnection(conninfo)
        let target = try LSN.current(on: lookup)
        let replication = try PostgresConnection(conninfo, replication: true)
        try replication.startStreaming("START_REPLICATION SLOT \(slot) LOGICAL \(start) (proto_version '1', publication_names '\(publication)')")
        var decoder = ChangeDecoder()
        var pending: [CapturedTransaction] = []
        var applied = start
        var serverEnd = start
        var lastConfirm = ContinuousClock.now
        var lastHeard = ContinuousClock.now
        let deadline: ContinuousClock.Instant? = if case .duration(let duration) = until { .now + duration } else { nil }
        state.withLock { $0.phase = .capturing }
        while !stopping.load(ordering: .relaxed) {
            if let deadline, ContinuousClock.now >= deadline { break }
            var idle = false
            let received = try replication.receive(timeoutMilliseconds: 100)
            if case .message = received { lastHeard = .now }
            let silence = ContinuousClock.now - lastHeard
            guard silence < options.silenceMax else {
                throw CaptureError("the server has sent nothing for \(Int(silence.seconds)) s, not even an answer to a request for one: "
                    + "the replication connection is gone; run `migrate capture` again (it resumes from the confirmed position)")
            }
            switch received {
            case .message(let bytes):
                switch try ServerReplicationMessage.decode(bytes) {
                case .data(let position, let end, let payload):
                    serverEnd = max(serverEnd, end)
                    if let transaction = try decoder.decode(payload, at: position) { pending.append(transaction) }
                case .keepalive(let end, let replyRequested):
                    serverEnd = max(serverEnd, end)
                    if replyRequested { try confirm(applied, on: replication) }
                    idle = true
                }
            case .idle:
                idle = true
            case .ended:
                throw CaptureError("the server ended the replication stream of \(slot)")
            }
            let pendingChanges = pending.reduce(0) { $0 + $1.changes.count }
            if pendingChanges >= options.batchChanges || (idle && !pending.isEmpty) {
                try apply(pending, lookup: lookup)
                applied = pending.last!.commitEnd
                pending.removeAll()
            }
            // Nothing pending and the server is idle: every change before its end is applied.
            // Not in the middle of a transaction: its commit may lie before the end the server
            // reported, and confirming past it would skip it after a restart.
            if idle, pending.isEmpty, !decoder.isInTransaction, serverEnd > applied { applied = serverEnd }
            progressState.withLock {
                $0.applied = applied
                $0.serverEnd = serverEnd
                if idle, pending.isEmpty, !decoder.isInTransaction { $0.lagSeconds = 0 }
            }
            if ContinuousClock.now - lastConfirm >= options.confirmInterval {
                try confirm(applied, on: replication, askForReply: silence >= options.silenceMax / 2)
                lastConfirm = .now
            }
            if case .caughtUp = until, idle, pending.isEmpty, applied >= target { break }
        }
        if !pending.isEmpty {
            try apply(pending, lookup: lookup)
            applied = pending.last!.commitEnd
        }
        try confirm(applied, on: replication)
        try replication.endStreaming()
    }

    /// Tells the server everything before `position` is applied, and records it in the state.
    private func confirm(_ position: LSN, on replication: PostgresConnection, askForReply: Bool = false) throws {
        let now = StandbyStatusUpdate.postgresMicroseconds(.wallClockNow)
        // Saved first: a crash between the two streams those changes again, never skips them.
        state.withLock { $0.confirmedLSN = max($0.confirmedLSN, position) }
        try blockingAwait { [self] in
            var saved = current
            try await store.save(&saved)
            state.withLock { $0.revision = saved.revision }
        }
        try replication.send(StandbyStatusUpdate(flushed: position, clientTimeMicroseconds: now, replyRequested: askForReply).encoded())
    }

    /// Applies committed transactions, in order, namespace by namespace.
    private func apply(_ transactions: [CapturedTransaction], lookup: PostgresConnection) throws {
        let (namespaces, types) = state.withLock { ($0.namespaces, $0.attributeTypes) }
        var byNamespace: [String: [Periscope_V1_ImportedWrite]] = [:]
        var deletes: [String: [(runId: String, position: LSN)]] = [:]
        var workflowOfRun: [String: String] = [:]
        var count = 0
        for change in transactions.flatMap(\.changes) {
            count += 1
            switch change.kind {
            case .upsert(let values):
                try upsert(TemporalRow(values: values), position: change.position, namespaces: namespaces, types: types,
                           into: &byNamespace, workflows: &workflowOfRun)
            case .refetch(let namespaceId, let runId):
                let columns = TemporalRow.columns.joined(separator: ", ")
                if let row = try lookup.query("SELECT \(columns) FROM executions_visibility WHERE namespace_id = $1 AND run_id = $2",
                                              [namespaceId, runId]).rows.first {
                    try upsert(TemporalRow(ordered: row), position: change.position, namespaces: namespaces, types: types,
                               into: &byNamespace, workflows: &workflowOfRun)
                }
            case .delete(let namespaceId, let runId):
                guard namespaces[namespaceId] != nil else { continue }
                deletes[namespaceId, default: []].append((runId, change.position))
            }
        }
        for (namespaceId, runs) in deletes {
            let namespace = namespaces[namespaceId]!
            let unknown = runs.map(\.runId).filter { workflowOfRun[namespaceId + "/" + $0] == nil }
            for (runId, workflowId) in try workflowIds(of: unknown, namespace: namespace) { workflowOfRun[namespaceId + "/" + runId] = workflowId }
            for (runId, position) in runs {
                // A run Periscope never held (inserted and deleted before the copy read it) needs no tombstone.
                guard let workflowId = workflowOfRun[namespaceId + "/" + runId] else { continue }
                var write = Periscope_V1_ImportedWrite()
                write.delete = .with { $0.workflowID = workflowId; $0.runID = runId }
                write.sourceOrder = Int64(position.value)
                byNamespace[namespace, default: []].append(write)
            }
        }
        for (namespace, writes) in byNamespace {
            for start in stride(from: 0, to: writes.count, by: options.batchChanges) {
                let batch = Array(writes[start..<min(start + options.batchChanges, writes.count)])
                try importWithRetries(batch, namespace: namespace)
            }
        }
        let now = StandbyStatusUpdate.postgresMicroseconds(.wallClockNow)
        let lag = transactions.last.map { Double(max(0, now - $0.commitTimeMicroseconds)) / 1_000_000 }
        progressState.withLock {
            $0.changesApplied += count
            if let lag { $0.lagSeconds = lag }
            for transaction in transactions {
                $0.lags.record(milliseconds: Double(max(0, now - transaction.commitTimeMicroseconds)) / 1_000)
            }
        }
        state.withLock { $0.changesApplied += count }
    }

    /// Writes one batch. Refusals that will not change (an invalid write) are recorded as
    /// rejected and skipped, so one bad row cannot stop the capture (and hold the source's
    /// WAL) for good; others (a leader change) are retried with backoff, the whole batch
    /// again (its order makes that harmless), and stop the capture only if they persist.
    private func importWithRetries(_ batch: [Periscope_V1_ImportedWrite], namespace: String) throws {
        var pause = 0.2
        for attempt in 1...Self.attemptsMax {
            let response = try blockingAwait { try await self.store.client.importWrites(namespace: namespace, batch) }
            let refused = zip(batch, response.outcomes).filter { $0.1.code != 0 }
            let transient = refused.filter { !ImportRefusal.isPermanent($0.1) }
            if transient.isEmpty {
                for (write, outcome) in refused {
                    let run = write.upsert.runID.isEmpty ? write.delete.runID : write.upsert.runID
                    state.withLock { $0.reject("\(namespace)/\(run)", "captured change at \(write.sourceOrder) refused: \(outcome.message)") }
                }
                return
            }
            guard attempt < Self.attemptsMax else {
                throw CaptureError("Periscope did not take a captured change of namespace \(namespace) after \(attempt) attempts: "
                    + "\(transient[0].1.message); run `migrate capture` again")
            }
            Thread.sleep(forTimeInterval: pause)
            pause = min(pause * 2, 5)
        }
    }

    static let attemptsMax = 8

    private func upsert(_ row: TemporalRow, position: LSN, namespaces: [String: String], types: [String: SearchAttributeType],
                        into byNamespace: inout [String: [Periscope_V1_ImportedWrite]], workflows: inout [String: String]) throws {
        let key = row.key
        guard let namespace = namespaces[key.namespaceId] else { return }
        let record: VisibilityRecord
        do {
            record = try row.record(types: types)
        } catch {
            state.withLock { $0.reject("\(key.namespaceId)/\(key.runId)", "captured at \(position): \(error)") }
            return
        }
        workflows[key.namespaceId + "/" + key.runId] = record.key.workflowId
        var write = Periscope_V1_ImportedWrite()
        write.upsert = RecordWire.wire(record)
        write.sourceOrder = Int64(position.value)
        byNamespace[namespace, default: []].append(write)
    }

    /// The workflow ids Periscope holds for `runs` of `namespace` (a run id is unique in a namespace).
    private func workflowIds(of runs: [String], namespace: String) throws -> [String: String] {
        var found: [String: String] = [:]
        for start in stride(from: 0, to: runs.count, by: 100) {
            let list = runs[start..<min(start + 100, runs.count)].map(Self.quoted).joined(separator: ", ")
            let executions = try blockingAwait {
                try await self.store.client.list(namespace: namespace, query: "RunId IN (\(list))", pageSize: 1_000, consistency: .strong).executions
            }
            for execution in executions { found[execution.runID] = execution.workflowID }
        }
        return found
    }

    /// A string literal of the List Filter.
    static func quoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''") + "'"
    }
}

/// Waits on this (non-cooperative) thread for async work.
func blockingAwait<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) throws -> Value {
    let done = DispatchSemaphore(value: 0)
    let result = Mutex<Result<Value, any Error>?>(nil)
    Task {
        let outcome: Result<Value, any Error>
        do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
        result.withLock { $0 = outcome }
        done.signal()
    }
    done.wait()
    return try result.withLock { $0! }.get()
}
