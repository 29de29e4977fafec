import Foundation
import PeriscopeAPI
import PeriscopeClient
import PeriscopeModel
import PeriscopePostgres
import PeriscopeQuery

extension PeriscopeClient {
    /// The schema Periscope compiles `namespace`'s queries against: its registered attributes.
    func querySchema(namespace: String) async throws -> NamespaceSchema {
        let registered = try await searchAttributes(namespace: namespace).custom
        return try NamespaceSchema(customAttributes: registered.compactMapValues { SearchAttributeType(rawValue: $0.rawValue) })
    }
}

/// Shadow reads: each query of a corpus runs against the source, as Temporal's SQL store
/// would run it (`SQLFilter`, its default order and keyset pages), and against Periscope, page
/// by page, and the results are compared. A query that differs is run again once the capture
/// has confirmed the source's position, and reported only if it still differs. A query
/// Periscope extends beyond what Temporal's SQL store takes (ORDER BY) is reported as not
/// comparable, not as a difference.
public struct ShadowQueries: Sendable {
    public struct Options: Sendable {
        public var pageSize = 100
        public var pagesMax = 5
        public var settleTimeout: Duration = .seconds(60)
        /// The converter the deployment's Temporal runs.
        public var converter: SQLFilter.Converter = .unified
        public init() {}
    }

    public enum Outcome: Sendable, Codable, Equatable {
        case agreed(executions: Int)
        case differs(String)
        case notComparable(String)
        /// Periscope refused the query (the corpus says Temporal takes it).
        case refused(String)
    }

    public struct Result: Sendable, Codable, Equatable, CustomStringConvertible {
        public var namespace: String
        public var query: String
        public var context: QueryCorpus.Context
        public var origin: String
        public var outcome: Outcome

        public var description: String {
            let head = "\(namespace) [\(context.rawValue)] \(query.isEmpty ? "<empty>" : query) (\(origin))"
            switch outcome {
            case .agreed(let count): return "agreed: \(head): \(count) executions"
            case .differs(let why): return "DIFFERS: \(head): \(why)"
            case .notComparable(let why): return "not comparable: \(head): \(why)"
            case .refused(let why): return "REFUSED by Periscope: \(head): \(why)"
            }
        }
    }

    public struct Report: Sendable, Codable, Equatable {
        public var results: [Result] = []
        public var seconds: Double = 0
        public func count(_ kind: (Outcome) -> Bool) -> Int { results.filter { kind($0.outcome) }.count }
        public var agreed: Int { count { if case .agreed = $0 { true } else { false } } }
        public var differing: Int { count { if case .differs = $0 { true } else { false } } }
        public var notComparable: Int { count { if case .notComparable = $0 { true } else { false } } }
        public var refused: Int { count { if case .refused = $0 { true } else { false } } }
        public var isClean: Bool { differing == 0 && refused == 0 }

        public var text: String {
            var lines = results.filter { if case .agreed = $0.outcome { false } else { true } }.map(\.description)
            lines.append("shadow queries: \(results.count) run, \(agreed) agreed, \(differing) differ, \(notComparable) not comparable, "
                + "\(refused) refused by Periscope (" + String(format: "%.1f s", seconds) + ")")
            return lines.joined(separator: "\n")
        }
    }

    let conninfo: String
    let client: PeriscopeClient
    let state: MigrationState
    let options: Options

    public init(conninfo: String, client: PeriscopeClient, state: MigrationState, options: Options = Options()) {
        self.conninfo = conninfo
        self.client = client
        self.state = state
        self.options = options
    }

    public func run(_ corpus: QueryCorpus, namespaces: [String]? = nil) async throws -> Report {
        let started = ContinuousClock.now
        let columns = try await onPostgresThread { [conninfo] in try TemporalSourceSchema.inspect(PostgresConnection(conninfo)).attributeColumns }
        let filter = SQLFilter(columns: columns, converter: options.converter)
        var report = Report()
        try await CaptureWatermark.wait(conninfo: conninfo, slot: state.slot, timeout: options.settleTimeout)
        for (sourceId, namespace) in state.namespaces.sorted(by: { $0.value < $1.value }) where namespaces?.contains(namespace) ?? true {
            let schema = try await client.querySchema(namespace: namespace)
            for entry in corpus.entries {
                var outcome = try await compare(entry, namespace: namespace, sourceId: sourceId, schema: schema, filter: filter)
                if case .differs = outcome {
                    try await CaptureWatermark.wait(conninfo: conninfo, slot: state.slot, timeout: options.settleTimeout)
                    outcome = try await compare(entry, namespace: namespace, sourceId: sourceId, schema: schema, filter: filter)
                }
                report.results.append(Result(namespace: namespace, query: entry.query, context: entry.context, origin: entry.origin, outcome: outcome))
            }
        }
        report.seconds = (ContinuousClock.now - started).seconds
        return report
    }

    private func compare(_ entry: QueryCorpus.Entry, namespace: String, sourceId: String, schema: NamespaceSchema,
                         filter: SQLFilter) async throws -> Outcome {
        let plan: QueryPlan
        do {
            plan = try Query.compile(entry.query, schema: schema, context: entry.context == .count ? .count : .list).plan
        } catch {
            // An attribute the namespace does not have: Temporal refuses the query too.
            if error.message.contains("is not a valid search attribute") { return .notComparable("\(error)") }
            return .refused("\(error)")
        }
        guard plan.orderBy.isEmpty else {
            return .notComparable("ORDER BY: Temporal's SQL store refuses it; Periscope extends the language with it")
        }
        let condition: String
        do {
            condition = try filter.condition(plan.filter)
        } catch {
            return .notComparable(error.reason)
        }
        return entry.context == .count
            ? try await compareCounts(entry, plan: plan, namespace: namespace, sourceId: sourceId, condition: condition, filter: filter)
            : try await compareLists(entry, namespace: namespace, sourceId: sourceId, condition: condition)
    }

    // MARK: Lists

    private func compareLists(_ entry: QueryCorpus.Entry, namespace: String, sourceId: String, condition: String) async throws -> Outcome {
        var periscope: [String] = [], source: [String] = []
        var token: [UInt8]?, periscopeDone = false
        var after: (close: String, start: String, run: String)?, sourceDone = false
        let wanted = options.pageSize * options.pagesMax
        for page in 1...options.pagesMax {
            while !periscopeDone, periscope.count < page * options.pageSize {
                let listed = try await client.list(namespace: namespace, query: entry.query, pageSize: options.pageSize, pageToken: token,
                                                   consistency: .strong)
                periscope += listed.executions.map(\.runID)
                token = listed.nextPageToken
                periscopeDone = token == nil
            }
            if !sourceDone {
                let rows = try await sourcePage(sourceId: sourceId, condition: condition, after: after)
                source += rows.map(\.run)
                after = rows.last
                sourceDone = rows.count < options.pageSize
            }
            let end = min(page * options.pageSize, wanted)
            let mine = Array(source.prefix(end)), theirs = Array(periscope.prefix(end))
            if mine != theirs {
                let onlySource = Set(mine).subtracting(theirs).sorted(), onlyPeriscope = Set(theirs).subtracting(mine).sorted()
                var why = "page \(page) (of \(options.pageSize)) differs"
                if !onlySource.isEmpty { why += "; only in the source: \(onlySource.prefix(5).joined(separator: ", "))" }
                if !onlyPeriscope.isEmpty { why += "; only in Periscope: \(onlyPeriscope.prefix(5).joined(separator: ", "))" }
                if onlySource.isEmpty, onlyPeriscope.isEmpty { why += ": the same executions in another order" }
                return .differs(why)
            }
            if sourceDone, periscopeDone { break }
        }
        return .agreed(executions: min(source.count, wanted))
    }

    /// One page of the source in Temporal's order, after the last row of the previous one.
    private func sourcePage(sourceId: String, condition: String,
                            after: (close: String, start: String, run: String)?) async throws -> [(close: String, start: String, run: String)] {
        let keyset = after.map { " AND " + SQLFilter.after(closeTime: $0.close, startTime: $0.start, runId: $0.run) } ?? ""
        let sql = "SELECT coalesce(close_time, '9999-12-31 23:59:59')::text, start_time::text, rtrim(run_id) FROM executions_visibility "
            + "WHERE namespace_id = $1 AND \(condition)\(keyset) ORDER BY \(SQLFilter.order) LIMIT \(options.pageSize)"
        return try await onPostgresThread { [conninfo] in
            try SourceChecksums.connect(conninfo).query(sql, [sourceId]).rows.map { ($0[0] ?? "", $0[1] ?? "", $0[2] ?? "") }
        }
    }

    // MARK: Counts

    private func compareCounts(_ entry: QueryCorpus.Entry, plan: QueryPlan, namespace: String, sourceId: String, condition: String,
                               filter: SQLFilter) async throws -> Outcome {
        let counted = try await client.count(namespace: namespace, query: entry.query, consistency: .strong)
        guard let group = plan.groupBy else {
            let total = try await onPostgresThread { [conninfo] in
                Int64(try SourceChecksums.connect(conninfo).query("SELECT count(*) FROM executions_visibility WHERE namespace_id = $1 AND \(condition)",
                                                             [sourceId]).scalar ?? "") ?? -1
            }
            return total == counted.count ? .agreed(executions: Int(total)) : .differs("the source counts \(total), Periscope \(counted.count)")
        }
        let column: String
        do {
            column = try filter.column(group)
        } catch {
            return .notComparable(error.reason)
        }
        let rows = try await onPostgresThread { [conninfo] in
            try SourceChecksums.connect(conninfo).query("SELECT \(column)::text, count(*) FROM executions_visibility WHERE namespace_id = $1 "
                + "AND \(condition) GROUP BY 1", [sourceId]).rows
        }
        var source: [String: Int64] = [:]
        for row in rows {
            var value = row[0] ?? ""
            if group.isExecutionStatus, let number = Int32(value), let status = ExecutionStatus(rawValue: number) { value = status.name }
            source[value] = Int64(row[1] ?? "") ?? -1
        }
        var periscope: [String: Int64] = [:]
        for group in counted.groups { periscope[group.values.first.map(Self.text) ?? "", default: 0] += group.count }
        guard source == periscope else {
            return .differs("groups differ: the source \(source.sorted { $0.key < $1.key }), Periscope \(periscope.sorted { $0.key < $1.key })")
        }
        return .agreed(executions: Int(source.values.reduce(0, +)))
    }

    static func text(of value: Periscope_V1_SearchAttributeValue) -> String {
        switch value.value {
        case .keyword(let text)?, .text(let text)?: text
        case .int(let number)?: String(number)
        case .bool(let flag)?: String(flag)
        default: "\(value)"
        }
    }
}
