import Foundation
import PeriscopeAPI
import PeriscopeClient
import PeriscopeModel
import PeriscopePostgres
import PeriscopeQuery

/// `periscope migrate validate`: proves Periscope holds exactly the source's executions.
///
/// For each namespace, counts and order-independent checksums per bucket of start time are
/// computed by the source's SQL (`SourceChecksums`) and by Periscope (`ChecksumExecutions`).
/// A bucket that differs is cut into smaller ones until each side's executions can be listed
/// with their fingerprints, and the executions that differ are found by key.
///
/// With the engine writing, a difference may only be a change on its way: the source is read
/// first, then Periscope once the capture has confirmed every change up to the source's WAL
/// position after that read, then the source again. An execution is reported only if the
/// source did not change between its two reads and Periscope still differs: it then should
/// have held the source's value. One that keeps changing is retried, then reported as
/// unsettled (not as a difference).
public struct Validation: Sendable {
    public struct Options: Sendable {
        /// The width of the first buckets (widened so that a namespace has at most `bucketsMax`).
        public var bucketSeconds: Int64 = 3_600
        public var bucketsMax: Int64 = 20_000
        /// A bucket with at most this many executions on each side is listed; a larger one is cut.
        public var listingMax = 20_000
        /// How long to wait for the capture to confirm the source's position, per round.
        public var settleTimeout: Duration = .seconds(60)
        /// Rounds of re-checking executions that keep changing.
        public var rounds = 5
        public var differencesMax = 1_000
        /// Executions a drill-down holds at once, at most: past it, the namespace is reported
        /// as differing in at least that many.
        public var candidatesMax = 100_000

        public init() {}
    }

    public enum Kind: String, Sendable, Codable, Equatable {
        case missingInPeriscope = "missing in Periscope"
        case onlyInPeriscope = "only in Periscope"
        case differs
    }

    public struct Difference: Sendable, Codable, Equatable, CustomStringConvertible {
        public var namespace: String
        public var workflowId: String
        public var runId: String
        public var kind: Kind
        /// For `differs`: the fields whose values differ (`ExecutionFingerprint.fieldNames`).
        public var fields: [String] = []

        public var description: String {
            let detail = if !fields.isEmpty {
                " (\(fields.joined(separator: ", ")))"
            } else if kind == .differs {
                // Both stores print every field alike, yet the SQL's fingerprint disagrees with Periscope's.
                " (every field reads the same: the two fingerprints disagree on a value's canonical form)"
            } else {
                ""
            }
            return "\(namespace) \(workflowId) \(runId): \(kind.rawValue)" + detail
        }
    }

    public struct NamespaceResult: Sendable, Codable, Equatable {
        public var name: String
        public var sourceExecutions: Int64 = 0
        public var periscopeExecutions: Int64 = 0
        public var buckets = 0
        public var bucketsDiffering = 0
        public var differences: [Difference] = []
        public var differencesCount = 0
        /// Executions still changing after every round: neither proved equal nor different.
        public var unsettled: [String] = []
        /// The drill-down stopped at `candidatesMax`: more executions may differ than counted.
        public var drillDownStopped = false
    }

    public struct Report: Sendable, Codable, Equatable {
        public var namespaces: [NamespaceResult] = []
        public var seconds: Double = 0
        public var differencesCount: Int { namespaces.reduce(0) { $0 + $1.differencesCount } }
        public var unsettledCount: Int { namespaces.reduce(0) { $0 + $1.unsettled.count } }
        public var isClean: Bool { differencesCount == 0 && unsettledCount == 0 && !namespaces.contains(where: \.drillDownStopped) }
    }

    let conninfo: String
    let client: PeriscopeClient
    let state: MigrationState
    let options: Options
    let sql: SourceChecksums

    public init(conninfo: String, client: PeriscopeClient, state: MigrationState, options: Options = Options()) {
        self.conninfo = conninfo
        self.client = client
        self.state = state
        self.options = options
        sql = SourceChecksums(types: state.attributeTypes)
    }

    public func run() async throws -> Report {
        let started = ContinuousClock.now
        var report = Report()
        for (sourceId, name) in state.namespaces.sorted(by: { $0.value < $1.value }) {
            report.namespaces.append(try await validate(namespace: name, sourceId: sourceId))
        }
        report.seconds = (ContinuousClock.now - started).seconds
        return report
    }

    // MARK: Buckets

    private func validate(namespace: String, sourceId: String) async throws -> NamespaceResult {
        var result = NamespaceResult(name: namespace)
        guard let (from, to) = try await range(namespace: namespace, sourceId: sourceId) else { return result }
        let span = (to.nanosecondsSinceEpoch - from.nanosecondsSinceEpoch) / 1_000_000_000 + 1
        let width = max(options.bucketSeconds, (span + options.bucketsMax - 1) / options.bucketsMax)
        var findings = Findings()
        let compared = try await compareBuckets(namespace: namespace, sourceId: sourceId, from: from, to: to, width: width)
        result.buckets = compared.buckets
        result.sourceExecutions = compared.sourceExecutions
        result.periscopeExecutions = compared.periscopeExecutions
        result.bucketsDiffering = compared.differing.count
        for bucket in compared.differing where findings.candidates.count < options.candidatesMax {
            try await drill(bucket, namespace: namespace, sourceId: sourceId, into: &findings)
        }
        result.drillDownStopped = findings.candidates.count >= options.candidatesMax
        try await settle(findings, namespace: namespace, sourceId: sourceId, result: &result)
        return result
    }

    /// The start times both stores' executions of the namespace lie in, `[from, to)`.
    private func range(namespace: String, sourceId: String) async throws -> (Timestamp, Timestamp)? {
        let source = try await onPostgresThread { [conninfo] in
            try SourceChecksums.startTimeRange(try SourceChecksums.connect(conninfo), namespaceId: sourceId)
        }
        var low = source?.0, high = source?.1
        for order in ["ASC", "DESC"] {
            let page = try await client.list(namespace: namespace, query: "\(Query.anyDivision) ORDER BY StartTime \(order)", pageSize: 1,
                                             consistency: .strong)
            guard let first = page.executions.first else { continue }
            let time = try RecordWire.timestamp(first.startTime, field: "start_time")
            low = min(low ?? time, time)
            high = max(high ?? time, time)
        }
        guard let low, let high else { return nil }
        // Whole seconds, so that buckets are the same on both sides.
        let second: Int64 = 1_000_000_000
        let to = high.truncated(toMultipleOf: second)
        return (low.truncated(toMultipleOf: second), Timestamp(nanosecondsSinceEpoch: to.nanosecondsSinceEpoch + second))
    }

    struct Range { var from: Timestamp; var to: Timestamp; var sourceCount: Int64; var periscopeCount: Int64 }

    struct Comparison {
        var differing: [Range]
        var buckets: Int
        var sourceExecutions: Int64
        var periscopeExecutions: Int64
    }

    /// The buckets of `[from, to)` whose counts or checksums differ.
    private func compareBuckets(namespace: String, sourceId: String, from: Timestamp, to: Timestamp, width: Int64) async throws -> Comparison {
        let source = try await onPostgresThread { [conninfo, sql] in
            try sql.buckets(try SourceChecksums.connect(conninfo), namespaceId: sourceId, from: from, to: to, bucketSeconds: width)
        }
        let periscope = try await client.checksumExecutions(namespace: namespace, from: from, to: to, bucketSeconds: width)
        var theirs: [Int64: (count: Int64, checksum: UInt64)] = [:]
        for bucket in periscope.buckets {
            theirs[(bucket.start.seconds - from.nanosecondsSinceEpoch / 1_000_000_000) / width] = (bucket.count, bucket.checksum)
        }
        let numbers = Set(source.keys).union(theirs.keys)
        let differing = numbers.sorted().compactMap { number -> Range? in
            let mine = source[number], other = theirs[number]
            guard mine?.count != other?.count || mine?.checksum != other?.checksum else { return nil }
            let start = from.nanosecondsSinceEpoch + number * width * 1_000_000_000
            let end = min(start + width * 1_000_000_000, to.nanosecondsSinceEpoch)
            return Range(from: Timestamp(nanosecondsSinceEpoch: start), to: Timestamp(nanosecondsSinceEpoch: end),
                         sourceCount: mine?.count ?? 0, periscopeCount: other?.count ?? 0)
        }
        return Comparison(differing: differing, buckets: numbers.count, sourceExecutions: source.values.reduce(0) { $0 + $1.count },
                          periscopeExecutions: theirs.values.reduce(0) { $0 + $1.count })
    }

    /// An execution that differed once, with the source's fingerprint when it was read (nil: absent).
    struct Candidate {
        var workflowId: String
        var sourceFingerprint: UInt64?
        /// The listed range it was found in (its start time never changes).
        var leaf: Int
    }

    /// What a drill-down found: the ranges it listed, and the executions that differed there.
    struct Findings {
        var leaves: [Range] = []
        var candidates: [String: Candidate] = [:]
    }

    /// The executions of a bucket that differed, found by listing both sides, or by cutting a
    /// bucket too large to list into 16 and comparing those.
    private func drill(_ range: Range, namespace: String, sourceId: String, into findings: inout Findings) async throws {
        let (from, to) = (range.from, range.to)
        let seconds = (to.nanosecondsSinceEpoch - from.nanosecondsSinceEpoch + 999_999_999) / 1_000_000_000
        if max(range.sourceCount, range.periscopeCount) > Int64(options.listingMax), seconds > 1 {
            for part in try await compareBuckets(namespace: namespace, sourceId: sourceId, from: from, to: to,
                                                 width: max(1, seconds / 16)).differing where findings.candidates.count < options.candidatesMax {
                try await drill(part, namespace: namespace, sourceId: sourceId, into: &findings)
            }
            return
        }
        let source = try await onPostgresThread { [conninfo, sql] in
            try sql.executions(try SourceChecksums.connect(conninfo), namespaceId: sourceId, from: from, to: to)
        }
        let periscope = try await periscopeListing(namespace: namespace, from: from, to: to)
        findings.leaves.append(range)
        for runId in Set(source.keys).union(periscope.keys) where source[runId]?.fingerprint != periscope[runId]?.fingerprint {
            findings.candidates[runId] = Candidate(workflowId: source[runId]?.workflowId ?? periscope[runId]!.workflowId,
                                                   sourceFingerprint: source[runId]?.fingerprint, leaf: findings.leaves.count - 1)
        }
    }

    /// Run id → fingerprint of Periscope's executions started in `[from, to)`.
    private func periscopeListing(namespace: String, from: Timestamp, to: Timestamp) async throws -> [String: SourceChecksums.Fingerprinted] {
        let seconds = (to.nanosecondsSinceEpoch - from.nanosecondsSinceEpoch) / 1_000_000_000 + 1
        let listed = try await client.checksumExecutions(namespace: namespace, from: from, to: to, bucketSeconds: seconds,
                                                         listing: options.listingMax + 1)
        guard !listed.executionsTruncated else {
            throw MigrationError.invalid("namespace \(namespace): more than \(options.listingMax) executions started in one second "
                + "(\(from)); raise --listing-max to compare them")
        }
        var periscope: [String: SourceChecksums.Fingerprinted] = [:]
        for execution in listed.executions {
            periscope[execution.runID] = .init(workflowId: execution.workflowID, runId: execution.runID, fingerprint: execution.fingerprint)
        }
        return periscope
    }

    // MARK: Settling

    /// Re-checks each candidate after the capture has confirmed the source's position; reports
    /// the ones the source kept while Periscope differed.
    private func settle(_ findings: Findings, namespace: String, sourceId: String, result: inout NamespaceResult) async throws {
        var candidates = findings.candidates
        var round = 0
        while !candidates.isEmpty, round < options.rounds {
            round += 1
            try await waitForCapture()
            var periscope: [String: SourceChecksums.Fingerprinted] = [:]
            for leaf in Set(candidates.values.map(\.leaf)).sorted() {
                let range = findings.leaves[leaf]
                periscope.merge(try await periscopeListing(namespace: namespace, from: range.from, to: range.to)) { first, _ in first }
            }
            let now = try await sourceFingerprints(sourceId: sourceId, Array(candidates.keys))
            var next: [String: Candidate] = [:]
            for (runId, candidate) in candidates {
                let current = now[runId]
                guard current?.fingerprint == candidate.sourceFingerprint else {
                    // Changed meanwhile: on its way; check again from its new value.
                    next[runId] = Candidate(workflowId: current?.workflowId ?? candidate.workflowId, sourceFingerprint: current?.fingerprint,
                                            leaf: candidate.leaf)
                    continue
                }
                let theirs = periscope[runId]
                guard theirs?.fingerprint != candidate.sourceFingerprint else { continue }
                result.differencesCount += 1
                guard result.differences.count < options.differencesMax else { continue }
                let kind: Kind = candidate.sourceFingerprint == nil ? .onlyInPeriscope : (theirs == nil ? .missingInPeriscope : .differs)
                var difference = Difference(namespace: namespace, workflowId: candidate.workflowId, runId: runId, kind: kind)
                if kind == .differs { difference.fields = try await differingFields(namespace: namespace, sourceId: sourceId, runId: runId) }
                result.differences.append(difference)
            }
            candidates = next
        }
        result.unsettled = candidates.map { "\(namespace) \($0.value.workflowId) \($0.key)" }.sorted()
    }

    private func waitForCapture() async throws {
        try await CaptureWatermark.wait(conninfo: conninfo, slot: state.slot, timeout: options.settleTimeout)
    }

    private func sourceFingerprints(sourceId: String, _ runIds: [String]) async throws -> [String: SourceChecksums.Fingerprinted] {
        try await onPostgresThread { [conninfo, sql] in
            try sql.executions(try SourceChecksums.connect(conninfo), namespaceId: sourceId, runIds: runIds)
        }
    }

    /// The fields of the canonical text that differ between the source's row and Periscope's record.
    private func differingFields(namespace: String, sourceId: String, runId: String) async throws -> [String] {
        let types = state.attributeTypes
        let row = try await onPostgresThread { [conninfo] () -> VisibilityRecord? in
            let connection = try SourceChecksums.connect(conninfo)
            let rows = try connection.query("SELECT \(TemporalRow.columns.joined(separator: ", ")) FROM executions_visibility "
                + "WHERE namespace_id = $1 AND run_id = $2", [sourceId, runId]).rows
            return try rows.first.map { try TemporalRow(ordered: $0).record(types: types) }
        }
        guard let row, let execution = try await client.execution(namespace: namespace, workflowID: row.key.workflowId, runID: runId,
                                                                  consistency: .strong) else { return [] }
        let theirs = try RecordWire.record(execution, namespaceId: sourceId)
        let mine = ExecutionFingerprint.fields(of: row), other = ExecutionFingerprint.fields(of: theirs)
        return zip(ExecutionFingerprint.fieldNames, zip(mine, other)).filter { $0.1.0 != $0.1.1 }.map(\.0)
    }
}
