import PeriscopeModel
@testable import PeriscopeQuery
import PeriscopeTestSupport
import Testing

/// Seeded property tests over random queries and records (the seed is in every message).
@Suite("Query: normalized plans, printing and evaluation")
struct PlanPropertyTests {
    /// The plan's text compiles back to the same plan, and the plan matches exactly the
    /// records the query as written matches.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func printedPlansRecompileAndPlansMatchLikeTheQuery(seed: UInt64) throws {
        var generator = QueryGenerator(random: SeededRandom(seed: seed))
        let records = (0..<150).map { _ in generator.record() }
        for index in 0..<250 {
            let text = generator.query()
            let query: Query
            do {
                query = try compile(text)
            } catch {
                Issue.record("seed \(seed) #\(index): generated query refused: \(text)\n\(error)")
                continue
            }
            let plan = query.plan
            let printed = plan.description
            do {
                let again = try compile(printed).plan
                #expect(again == plan, "seed \(seed) #\(index): \(text)\nprinted: \(printed)\nreprinted: \(again)")
                #expect(again.description == printed, "seed \(seed) #\(index): printing is not stable")
            } catch {
                Issue.record("seed \(seed) #\(index): printed plan does not compile: \(printed)\n\(error)")
            }
            for record in records where query.matches(record) != plan.matches(record) {
                Issue.record("seed \(seed) #\(index): \(text)\nplan \(printed)\nquery says \(query.matches(record)) for \(record)")
                break
            }
        }
    }

    @Test func normalizationExamples() throws {
        func plan(_ text: String) throws -> String { try compile(text).plan.description }
        let all = "TemporalNamespaceDivision IS NULL"
        #expect(try plan("NOT (Int01 > 3 OR Keyword01 = 'a')") == "Int01 <= 3 AND Keyword01 != 'a' AND \(all)")
        #expect(try plan("Int01 > 1 AND Int01 <= 5 AND Int01 >= 2") == "Int01 BETWEEN 2 AND 5 AND \(all)")
        #expect(try plan("Int01 > 1 AND Int01 < 5") == "Int01 > 1 AND Int01 < 5 AND \(all)")
        #expect(try plan("Int01 > 5 AND Int01 < 1") == "RunId = '' AND RunId != ''")
        #expect(try plan("Keyword01 IN ('b', 'a', 'b') OR Keyword01 = 'c'") == "Keyword01 IN ('a', 'b', 'c') AND \(all)")
        #expect(try plan("Keyword01 IN ('a', 'b') AND Keyword01 != 'a'") == "Keyword01 = 'b' AND \(all)")
        #expect(try plan("Int01 BETWEEN 3 AND 3") == "Int01 = 3 AND \(all)")
        #expect(try plan("NOT Int01 BETWEEN 1 AND 2") == "(Int01 < 1 OR Int01 > 2) AND \(all)")
        #expect(try plan("Keyword01 IS NULL AND Keyword01 = 'a'") == "RunId = '' AND RunId != ''")
        #expect(try plan("CloseTime IS NOT NULL AND CloseTime > 0") == "CloseTime > '1970-01-01T00:00:00Z' AND \(all)")
        #expect(try plan("ExecutionStatus = 1 OR ExecutionStatus = 'Completed'") == "ExecutionStatus IN ('Running', 'Completed') AND \(all)")
        #expect(try plan("KeywordList01 = 'a' AND KeywordList01 = 'b'") == "KeywordList01 = 'a' AND KeywordList01 = 'b' AND \(all)")
        #expect(try plan("Keyword01 = 'x' ORDER BY StartTime DESC") == "Keyword01 = 'x' AND \(all) ORDER BY StartTime DESC")
    }

    @Test func threeValuedLogicLikeTemporalsSQLStores() throws {
        var generator = QueryGenerator(random: SeededRandom(seed: 9))
        var without = generator.record()
        without.searchAttributes = [:]
        without.closeTime = nil
        var with = without
        with.searchAttributes = ["Keyword01": SearchAttributeValue.keyword("a"), "KeywordList01": .keywordList(["x", "y"]), "Text01": .text("Nothing else matters")]
        func matches(_ text: String, _ record: VisibilityRecord) throws -> Bool { try compile(text).matches(record) }
        #expect(try !matches("Keyword01 != 'b'", without))       // NULL != 'b' is unknown
        #expect(try !matches("NOT (Keyword01 = 'b')", without))
        #expect(try matches("Keyword01 != 'b'", with))
        #expect(try matches("Keyword01 IS NULL", without))
        #expect(try !matches("CloseTime > '2000-01-01T00:00:00Z'", without))  // running: no close time
        #expect(try matches("KeywordList01 = 'y'", with))          // contains
        #expect(try matches("KeywordList01 NOT IN ('z')", with))
        #expect(try !matches("KeywordList01 != 'x'", with))
        #expect(try matches("Text01 = 'else nothing'", with))     // any token, case-insensitive
        #expect(try !matches("Text01 = 'else'", without))
        #expect(try !matches("Keyword01 = 'A'", with))             // keywords are exact
        #expect(try matches("Keyword01 STARTS_WITH ''", with))
        var scheduled = with
        scheduled.searchAttributes["TemporalNamespaceDivision"] = .keyword("TemporalScheduler")
        #expect(try !matches("", scheduled))
        #expect(try matches("TemporalNamespaceDivision = 'TemporalScheduler'", scheduled))
    }

    @Test func listOrderAndGroupedCounts() throws {
        var generator = QueryGenerator(random: SeededRandom(seed: 5))
        let records = (0..<300).map { _ in generator.record() }
        let byDefault = try compile("").plan
        let sorted = records.sorted(by: byDefault.precedes)
        let firstClosed = sorted.firstIndex { $0.closeTime != nil } ?? sorted.count
        #expect(sorted[..<firstClosed].allSatisfy { $0.closeTime == nil }, "open executions come first")
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.closeTime != nil && b.closeTime != nil {
            #expect(a.closeTime! >= b.closeTime!)
        }
        let byInt = try compile("order by Int01 desc").plan
        let ints = records.sorted(by: byInt.precedes).map { record -> Int64? in
            if case .int(let value)? = record.searchAttributes["Int01"] { return value }
            return nil
        }
        let present = ints.prefix { $0 != nil }.map { $0! }
        #expect(present == present.sorted(by: >) && ints.dropFirst(present.count).allSatisfy { $0 == nil }, "absent last")

        let counted = try compile("GROUP BY ExecutionStatus", .count).plan.count(records)
        #expect(counted.total == records.filter { $0.searchAttributes["TemporalNamespaceDivision"] == nil }.count)
        #expect(counted.groups.map(\.count).reduce(0, +) == counted.total)
        #expect(counted.groups.map(\.count) == counted.groups.map(\.count).sorted(by: >))

        var limits = QueryLimits()
        limits.groupsMax = 3
        let tooMany = try Query.compile("GROUP BY RunId", schema: sqlTestSchema, context: .count, limits: limits).plan
        #expect(throws: QueryError.self) { _ = try tooMany.count(records) }
    }
}
