import Foundation
import Testing

/// `periscope query check`, run as a separate process.
@Suite struct QueryCheckTests {
    @Test func validQueriesPrintTheirNormalizedFormAndExitZero() throws {
        let plain = try CLITests.run("query", "check", "WorkflowType = 'order' and not (ExecutionStatus = 'Running' or ExecutionStatus = 2)")
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout == "ExecutionStatus NOT IN ('Running', 'Completed') AND TemporalNamespaceDivision IS NULL AND WorkflowType = 'order'\n")

        let fixture = try CLITests.run("query", "check", "--fixture", "sql-test", "AliasForInt01 > 1 AND AliasForInt01 <= 5")
        #expect(fixture.status == 0)
        #expect(fixture.stdout == "AliasForInt01 > 1 AND AliasForInt01 <= 5 AND TemporalNamespaceDivision IS NULL\n")

        let count = try CLITests.run("query", "check", "--count", "GROUP BY WorkflowType")
        #expect(count.stdout == "TemporalNamespaceDivision IS NULL GROUP BY WorkflowType\n")
        #expect(try CLITests.run("query", "check", "GROUP BY WorkflowType").status == 2, "lists cannot group")
    }

    @Test func invalidQueriesShowTheErrorWithACaretAndExitTwo() throws {
        let outcome = try CLITests.run("query", "check", "WorkflowType = 'a' AND Nope = 1")
        #expect(outcome.status == 2)
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderr == """
            invalid query: invalid expression: column name 'Nope' is not a valid search attribute (at position 24 near 'Nope')
            WorkflowType = 'a' AND Nope = 1
                                   ^^^^

            """)
        let syntax = try CLITests.run("query", "check", "WorkflowType = = 'a'")
        #expect(syntax.status == 2)
        #expect(syntax.stderr.hasPrefix("invalid query: malformed SQL query: syntax error at position 16 near '='\n"))
    }

    @Test func schemaFilesAndTheirErrors() throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let good = directory + "/schema.json"
        try Data(#"{"CustomerId": "Keyword", "Amount": "Double"}"#.utf8).write(to: URL(fileURLWithPath: good))
        let valid = try CLITests.run("query", "check", "--schema", good, "CustomerId = 'c1' AND Amount > 10")
        #expect(valid.status == 0, "\(valid.stderr)")
        #expect(valid.stdout == "Amount > 10.0 AND CustomerId = 'c1' AND TemporalNamespaceDivision IS NULL\n")

        let badType = directory + "/bad.json"
        try Data(#"{"CustomerId": "Strnig"}"#.utf8).write(to: URL(fileURLWithPath: badType))
        let refused = try CLITests.run("query", "check", "--schema", badType, "CustomerId = 'c1'")
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("attribute CustomerId has type 'Strnig'"))

        let missing = try CLITests.run("query", "check", "--schema", directory + "/none.json", "x = 1")
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("cannot read the schema file"))
        let both = try CLITests.run("query", "check", "--schema", good, "--fixture", "sql-test", "x = 1")
        #expect(both.status == 64)
        let unknown = try CLITests.run("query", "check", "--fixture", "nope", "x = 1")
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("unknown fixture 'nope'"))
    }
}
