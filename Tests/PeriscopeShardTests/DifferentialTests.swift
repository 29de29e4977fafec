import PeriscopeModel
import PeriscopeQuery
import PeriscopeStorage
import PeriscopeTestSupport
import Testing
@testable import PeriscopeShard

/// The planner and executor against the oracle: random records written with out-of-order
/// versions and deletes, random queries over the whole grammar (with ORDER BY and GROUP
/// BY), and every plan the planner can be made to pick. Lists (paged at random sizes and
/// budgets), counts and group counts must equal brute-force evaluation of the same query
/// over the model's live records.
@Suite struct DifferentialTests {
    static let schema = try! TemporalFixtures.schema("sql-test")!
    static let sortable = ["StartTime", "CloseTime", "ExecutionTime", "Int01", "Double01", "Keyword01", "Bool01", "Datetime01",
                           "HistoryLength", "WorkflowType", "ExecutionStatus", "WorkflowId"]
    static let groupable = ["ExecutionStatus", "WorkflowType", "TaskQueue", "Keyword01", "Bool01"]

    /// Planner configurations: the default, and each index path taken away in turn.
    static let configurations: [PlannerLimits] = [
        PlannerLimits(),
        PlannerLimits(disabled: [.everyIndex]),
        PlannerLimits(topKMax: 0, disabled: [.terms]),
        PlannerLimits(topKMax: 0, disabled: [.values, .lookup]),
        PlannerLimits(disabled: [.presence, .indexOrder]),
        PlannerLimits(materializedMax: 3, probeMax: 2, topKMax: 0),
    ]

    /// Writes random records the way an engine would: starts, later versions, stale
    /// retries and deletes, out of order. Returns the model's live records.
    static func populate(_ shard: Shard, generator: inout QueryGenerator) throws -> [VisibilityRecord] {
        var model = ModelStore(scheme: shard.configuration.partitionScheme)
        var commands: [ShardCommand] = []
        for _ in 0..<160 {
            var first = generator.record()
            var later = generator.record()
            later.key = first.key
            first.version = 1
            later.version = 3
            commands.append(.start(first))
            if generator.chance(40) { commands.append(later.closeTime == nil ? .upsert(later) : .close(later)) }
            if generator.chance(20) {
                var stale = generator.record()
                stale.key = first.key
                stale.version = 2
                commands.append(.upsert(stale))
            }
            if generator.chance(8) { commands.append(.delete(first.key, version: 5, at: Timestamp(nanosecondsSinceEpoch: 0))) }
        }
        // Deliver in a shuffled order, some in batches.
        var shuffled = commands
        for index in shuffled.indices.reversed() {
            shuffled.swapAt(index, Int.random(in: 0...index, using: &generator.random))
        }
        var index = 0
        while index < shuffled.count {
            let size = generator.chance(20) ? Int.random(in: 2...5, using: &generator.random) : 1
            let slice = Array(shuffled[index..<min(index + size, shuffled.count)])
            let command = slice.count == 1 ? slice[0] : ShardCommand.batch(slice)
            try shard.apply([command])
            model.apply(command)
            index += size
        }
        try shard.indexUntilCaughtUp()
        return model.liveRecords
    }

    static func listAll(_ shard: Shard, plan: QueryPlan, limits: PlannerLimits, pageSize: Int, budget: Int) throws -> [VisibilityRecord] {
        var records: [VisibilityRecord] = []
        var cursor: ShardCursor?
        for _ in 0..<10_000 {
            let page = try shard.list(ShardListRequest(namespaceId: "ns", plan: plan, pageSize: pageSize, after: cursor,
                                                       scanBudget: budget, limits: limits))
            records += page.records
            guard let next = page.next else { return records }
            cursor = next
        }
        throw ShardError("paging did not end after 10,000 pages")
    }

    /// Eight seeds one after another on one thread of their own: a single busy core, so
    /// the timing-sensitive socket tests running beside it keep theirs.
    @Test func plansAgreeWithTheOracle() async throws {
        let (failures, checked) = try await onDedicatedThread {
            var failures: [String] = []
            var checked = 0
            for seed in UInt64(1)...8 {
                let (seedFailures, seedChecked) = try Self.compareWithOracle(seed: seed)
                failures += seedFailures
                checked += seedChecked
            }
            return (failures, checked)
        }
        #expect(failures.isEmpty, "\(failures.count) disagreements; the first:\n\(failures.prefix(3).joined(separator: "\n\n"))")
        #expect(checked > 2_000)
    }

    /// Every disagreement between the shard and the oracle, and the number of cases run.
    static func compareWithOracle(seed: UInt64) throws -> ([String], Int) {
        let store = try TemporaryShard()
        var generator = QueryGenerator(random: SeededRandom(seed: seed * 7_919))
        let live = try populate(store.shard, generator: &generator)
        var failures: [String] = []
        var checked = 0
        for _ in 0..<30 {
            var text = generator.query()
            if generator.chance(35) {
                text += " ORDER BY " + (0..<Int.random(in: 1...2, using: &generator.random)).map { _ in
                    generator.pick(sortable) + (generator.chance(50) ? " DESC" : "")
                }.joined(separator: ", ")
            }
            guard let query = try? Query.compile(text, schema: schema, context: .list) else { continue }
            let plan = query.plan
            let expected = live.filter(plan.matches).sorted(by: plan.precedes).map(\.key)
            for limits in configurations {
                let pageSize = generator.chance(40) ? 1_000 : Int.random(in: 1...9, using: &generator.random)
                let budget = plan.orderBy.isEmpty && generator.chance(15) ? Int.random(in: 1...40, using: &generator.random) : 100_000
                let found = try listAll(store.shard, plan: plan, limits: limits, pageSize: pageSize, budget: budget).map(\.key)
                if found != expected {
                    let explain = try store.shard.explain(namespaceId: "ns", plan: plan, limits: limits)
                    failures.append("seed \(seed): \(text)\nlimits \(limits.disabled) page \(pageSize) budget \(budget)\n"
                        + "\(explain)\nfound \(found)\nexpected \(expected)")
                }
                checked += 1
            }

            let groupBy = generator.chance(50) ? " GROUP BY " + generator.pick(groupable) : ""
            let filterText = text.components(separatedBy: " ORDER BY ")[0]
            guard let countQuery = try? Query.compile(filterText + groupBy, schema: schema, context: .count) else { continue }
            let expectedCount = try countQuery.plan.count(live)
            for limits in configurations {
                let counted = try store.shard.count(namespaceId: "ns", plan: countQuery.plan, limits: limits)
                if counted.result != expectedCount {
                    failures.append("seed \(seed): \(filterText + groupBy)\nlimits \(limits.disabled)\n\(counted.explain)\n"
                        + "counted \(counted.result)\nexpected \(expectedCount)")
                }
                checked += 1
            }
        }
        return (failures, checked)
    }

    @Test func indexOnlyCountsAndExplain() throws {
        let store = try TemporaryShard()
        try store.shard.apply((0..<30).map { index in
            let parity = index % 2 == 0 ? "even" : "odd"
            return ShardCommand.start(record("wf-\(index)", attributes: ["CustomKeywordField": .keyword(parity)]))
        })
        try store.shard.apply((0..<10).map { index in
            let status: ExecutionStatus = index % 2 == 0 ? .completed : .failed
            return ShardCommand.close(record("wf-\(index)", version: 2, status: status, close: time(day: Int64(index % 3)),
                                             attributes: ["CustomKeywordField": .keyword("closed")]))
        })
        try store.shard.indexUntilCaughtUp()
        var schema = NamespaceSchema()
        try schema.addCustomAttribute("CustomKeywordField", type: .keyword)
        let byStatus = try Query.compile("GROUP BY ExecutionStatus", schema: schema, context: .count).plan
        let count = try store.shard.count(namespaceId: "ns", plan: byStatus)
        #expect(count.indexOnly)
        #expect(count.result.total == 30)
        #expect(count.result.groups.map(\.count) == [20, 5, 5])
        let keyword = try Query.compile("CustomKeywordField = 'even' AND ExecutionStatus = 'Running'", schema: schema, context: .count).plan
        let evenRunning = try store.shard.count(namespaceId: "ns", plan: keyword)
        #expect(evenRunning.indexOnly && evenRunning.result.total == 10)
        #expect(evenRunning.explain.contains("intersect") && evenRunning.explain.contains("terms CustomKeywordField:Keyword"))
        let closedRange = try Query.compile("CloseTime < '\(time(day: 1).rfc3339)'", schema: schema, context: .list).plan
        let explained = try store.shard.explain(namespaceId: "ns", plan: closedRange)
        #expect(explained.contains("partitions: 1 of 4"), "\(explained)")
    }

    @Test func badRequestsAreRefusedClearly() throws {
        let store = try TemporaryShard()
        let plan = try Query.compile("", schema: NamespaceSchema(), context: .list).plan
        #expect { try store.shard.list(ShardListRequest(namespaceId: "ns", plan: plan, pageSize: 0)) } throws: {
            "\($0)".contains("page size 0 is outside 1...10000")
        }
        let ordered = try Query.compile("ORDER BY StartTime", schema: NamespaceSchema(), context: .list).plan
        #expect { try store.shard.list(ShardListRequest(namespaceId: "ns", plan: ordered, after: .position([1, 2]))) } throws: {
            "\($0)".contains("the cursor belongs to a query in the default order")
        }
        #expect { try store.shard.list(ShardListRequest(namespaceId: "ns", plan: plan, after: .sortValues([nil]))) } throws: {
            "\($0)".contains("the cursor belongs to a query with ORDER BY")
        }
    }
}
