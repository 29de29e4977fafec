import PeriscopeModel
@testable import PeriscopeQuery
import Testing

@Suite("Query: grammar, limits and error positions")
struct GrammarTests {
    @Test(arguments: [
        "WorkflowId = 'a'", "WorkflowId = \"a\"", "`WorkflowId` = 'a'", "WorkflowId <> 'a'", "WorkflowId != 'a'",
        "WorkflowId in ('a', 'b')", "WorkflowId NoT In ('a')", "StartTime between '2025-01-01T00:00:00Z' AnD 1",
        "StartTime not between 1 and 2", "WorkflowId starts_with 'a'", "WorkflowId NOT STARTS_WITH 'a'",
        "CloseTime iS nOt NuLl", "CloseTime is null", "NOT (WorkflowId = 'a' OR WorkflowId = 'b')",
        "WorkflowId = 'a' && RunId = 'b' || TaskQueue = 'c'", "HistoryLength >= -5", "HistoryLength < +5",
        "Int01 = 1.5e3", "Double01 = .5", "Bool01 = TRUE", "Bool01 = false", "order by StartTime desc, WorkflowId",
        "WorkflowId = 'it''s' OR WorkflowId = 'it\\'s'", "  WorkflowId = 'a'  ", "",
        "Keyword01 = 'x' ORDER BY Int01 ASC, Datetime01 DESC", "ExecutionStatus = 'Running' ORDER BY ExecutionStatus",
    ])
    func accepted(_ query: String) throws {
        _ = try compile(query)
    }

    @Test func quotesAndEscapes() throws {
        let plan = try compile(#"WorkflowId IN ('it''s', "say \"hi\"", 'tab\there', 'back\\slash', '100\%')"#).plan
        guard case .and(let terms) = plan.filter, case .oneOf(_, let values, false) = terms.first(where: { $0.leafField == .workflowId }) else {
            Issue.record("\(plan.filter)")
            return
        }
        #expect(Set(values) == [.string("it's"), .string("say \"hi\""), .string("tab\there"), .string("back\\slash"), .string("100\\%")])
    }

    @Test func keywordsNeedBackticksAsNames() throws {
        let schema = try NamespaceSchema(customAttributes: ["order": .keyword, "with-hyphen": .int, "by": .keyword])
        _ = try compile("`order` = 'x' AND `with-hyphen` > 3 AND `by` = 'y'", schema: schema)
        #expect(compileError("order = 'x'", schema: schema)?.kind == .syntax)
        let printed = try compile("`order` = 'x' AND `with-hyphen` > 3", schema: schema).plan.description
        #expect(printed.contains("`order` = 'x'") && printed.contains("`with-hyphen` > 3"), "\(printed)")
    }

    @Test func syntaxErrorsNamePositionAndText() throws {
        let error = try #require(compileError("WorkflowId = 'a' AND AND RunId = 'b'"))
        #expect(error.description == "invalid query: malformed SQL query: syntax error at position 22 near 'AND'")
        #expect(error.caret(under: "WorkflowId = 'a' AND AND RunId = 'b'") == "WorkflowId = 'a' AND AND RunId = 'b'\n                     ^^^")
        #expect(compileError("WorkflowId = ")?.description == "invalid query: malformed SQL query: syntax error at the end of the query")
        #expect(compileError("WorkflowId = 'a")?.description.contains("never closed") == true)
        #expect(compileError("WorkflowId = 'a' )")?.description.contains("near ')'") == true)
        #expect(compileError("WorkflowId IN ()")?.kind == .syntax)
        #expect(compileError("WorkflowId = 12abc")?.description.contains("near '12abc'") == true)
        #expect(compileError("select * from a")?.kind == .syntax)
        // The caret is drawn under the query as given: leading space is trimmed the same way.
        #expect(compileError("\t  WorkflowId = = 'a'")?.caret(under: "\t  WorkflowId = = 'a'") == "WorkflowId = = 'a'\n             ^")
        // Positions count characters, not bytes.
        #expect(compileError("WorkflowType = 'ünïcödé' AND Nope = 1")?.position == 30)
    }

    @Test func refusedWithTemporalsWords() {
        let cases: [(String, String)] = [
            ("WorkflowId = 'a' LIMIT 10", "operation is not supported: 'LIMIT' clause"),
            ("WorkflowId LIKE 'a%'", "operation is not supported: operator 'LIKE' not supported for Keyword type search attribute 'WorkflowId'"),
            ("WorkflowId NOT REGEXP 'a'", "operator 'NOT REGEXP' not supported"),
            ("WorkflowId <=> 'a'", "operator '<=>' not supported"),
            ("lower(WorkflowId) = 'a'", "operation is not supported: function expression"),
            ("WorkflowId = upper('a')", "operation is not supported: function expression"),
            ("WorkflowId = RunId", "column name on the right side of comparison expression (did you forget to quote \"RunId\"?)"),
            ("'a' = WorkflowId", "invalid expression: must be a column name but was *sqlparser.SQLVal"),
            ("WorkflowId", "invalid expression: incomplete expression"),
            ("true", "expression of type sqlparser.BoolVal"),
            ("CloseTime IS TRUE", "'IS' operator can only be used as 'IS NULL' or 'IS NOT NULL'"),
            ("WorkflowId = NULL", "use WorkflowId IS NULL"),
            ("WorkflowId = 'a' HAVING 1", "operation is not supported: 'HAVING' clause"),
            ("KeywordList01 < 'a'", "operator '<' not supported for KeywordList type search attribute 'KeywordList01'"),
            ("Text01 IN ('a')", "operator 'IN' not supported for Text type"),
            ("Text01 STARTS_WITH 'a'", "operator 'STARTS_WITH' not supported for Text type"),
            ("Int01 STARTS_WITH 'a'", "operator 'STARTS_WITH' not supported for Int type"),
            ("WorkflowId STARTS_WITH 5", "right-hand side of 'starts_with' must be a literal string (got: 5)"),
            ("Bool01 BETWEEN FALSE AND TRUE", "cannot do range condition on search attribute 'Bool01' of type Bool"),
            ("KeywordList01 BETWEEN 'a' AND 'b'", "cannot do range condition on search attribute 'KeywordList01' of type KeywordList"),
            ("Text01 = '  ,, '", "no tokens found"),
            ("order by Text01", "unable to sort by search attribute type Text"),
            ("order by KeywordList01", "unable to sort by search attribute type KeywordList"),
            ("order by StartTime, StartTime desc", "ORDER BY names StartTime more than once"),
            ("WorkflowId IN ('a', (1, 2))", "as a value"),
        ]
        for (query, expected) in cases {
            let error = compileError(query)
            #expect(error?.description.contains(expected) == true, "\(query): \(error.map { "\($0)" } ?? "accepted")")
        }
    }

    @Test func nestingAndDepthLimits() throws {
        let deep = String(repeating: "(", count: 200) + "WorkflowId = 'a'" + String(repeating: ")", count: 200)
        _ = try compile(deep)
        let tooDeep = "(" + deep + ")"
        #expect(compileError(tooDeep)?.description.contains("max nesting level reached") == true)
        let nots = String(repeating: "NOT ", count: 201) + "WorkflowId = 'a'"
        #expect(compileError(nots)?.description.contains("max nesting level reached") == true)

        let chain = (0..<999).map { _ in "WorkflowId = 'a'" }.joined(separator: " AND ")
        _ = try compile(chain)
        let longChain = (0..<1_002).map { _ in "WorkflowId = 'a'" }.joined(separator: " OR ")
        #expect(compileError(longChain)?.description.contains("max ast depth reached") == true)

        let huge = "WorkflowId = '" + String(repeating: "x", count: 70_000) + "'"
        #expect(compileError(huge)?.description == "invalid query: the query is 70015 bytes; the limit is 65536")
    }

    @Test func groupByIsForCountsOnOneKeywordOrBoolField() throws {
        _ = try compile("GROUP BY ExecutionStatus", .count)
        _ = try compile("WorkflowType = 'a' GROUP BY TaskQueue", .count)
        _ = try compile("group by Bool01", .count)
        _ = try compile("group by Keyword03", .count)
        #expect(compileError("GROUP BY ExecutionStatus", .list)?.description.contains("'GROUP BY' clause (only a count can group") == true)
        #expect(compileError("GROUP BY Int01", .count)?.description.contains("'GROUP BY' clause is not supported for search attribute Int01") == true)
        #expect(compileError("GROUP BY WorkflowType, TaskQueue", .count)?.description.contains("supports only a single field") == true)
    }
}
