import PeriscopeModel
@testable import PeriscopeQuery
import Testing

@Suite("Query: names, types and literals")
struct SemanticsTests {
    func value(_ query: String, schema: NamespaceSchema = sqlTestSchema) throws -> QueryValue? {
        guard case .compare(_, _, let value)? = try compile(query, schema: schema).filter else { return nil }
        return value
    }

    @Test func nameResolution() throws {
        let schema = try NamespaceSchema(customAttributes: ["CustomerId": .keyword])
        #expect(try compile("TemporalBuildIds = 'x'", schema: schema).filter?.leafField?.name == "BuildIds")
        #expect(try compile("WorkerDeployment = 'x'", schema: schema).filter?.leafField?.name == "TemporalWorkerDeployment")
        #expect(try compile("ScheduleId = 'x'", schema: schema).filter?.leafField == .workflowId)
        #expect(try compile("TemporalScheduleId = 'x'", schema: schema).filter?.leafField == .workflowId)
        let ownScheduleId = try NamespaceSchema(customAttributes: ["ScheduleId": .int])
        #expect(try compile("ScheduleId = 5", schema: ownScheduleId).filter?.leafField?.kind == .custom)
        #expect(compileError("customerid = 'x'", schema: schema)?.description.contains("column name 'customerid' is not a valid") == true)
    }

    @Test func literalTyping() throws {
        #expect(try value("StartTime = '2020-02-15T20:30:40.123456789+01:00'")
            == .datetime(try Timestamp(rfc3339: "2020-02-15T19:30:40.123456789Z")))
        #expect(try value("StartTime = 1000000") == .datetime(Timestamp(nanosecondsSinceEpoch: 1_000_000)))
        #expect(try value("ExecutionStatus = 'Running'") == .status(.running))
        #expect(try value("ExecutionStatus = 'WORKFLOW_EXECUTION_STATUS_TIMED_OUT'") == .status(.timedOut))
        #expect(try value("ExecutionStatus = 3") == .status(.failed))
        #expect(try value("Int01 = 3.0") == .int(3))
        #expect(try value("Int01 = 1.5") == .double(1.5))
        #expect(try value("Double01 = 3") == .double(3))
        #expect(try value("Int01 = 99999999999999999999") == .double(1e20))
        let day: Int64 = 86_400_000_000_000
        for (text, nanoseconds) in [("'10d'", 10 * day), ("'1m'", 60_000_000_000), ("'01:02:03'", 3_723_000_000_000),
                                    ("'300ms'", 300_000_000), ("'-1.5h'", -5_400_000_000_000), ("'100'", 100),
                                    ("'1h30m'", 5_400_000_000_000), ("100", 100)] as [(String, Int64)] {
            #expect(try value("ExecutionDuration > \(text)") == .int(nanoseconds), "\(text)")
        }
        for bad in ["'1t'", "'100q'", "'01:60:03'", "'10000000h'", "''", "'h'", "'1.h'x"] {
            #expect(compileError("ExecutionDuration > \(bad)") != nil, "\(bad)")
        }
        #expect(compileError("ExecutionStatus = 'running'")?.description.contains("invalid ExecutionStatus value 'running'") == true)
        #expect(compileError("ExecutionStatus = 9")?.description.contains("invalid ExecutionStatus value 9") == true)
        #expect(compileError("Int01 = '123'")?.description.contains(#"of type Int: "123" (type: string)"#) == true)
        #expect(compileError("Bool01 = 'true'")?.description.contains(#"of type Bool: "true" (type: string)"#) == true)
        #expect(compileError("Bool01 = 1")?.description.contains("of type Bool: 1 (type: int64)") == true)
        #expect(compileError("Keyword01 = TRUE")?.description.contains("of type Keyword: true (type: bool)") == true)
        #expect(compileError("StartTime = '2025-01-01'")?.description.contains("unable to parse datetime '2025-01-01'") == true)
        #expect(compileError("Double01 = 1e999")?.description.contains("out of range") == true)
    }

    @Test func theDivisionFilterIsHiddenUnlessTheQueryNamesIt() throws {
        #expect(try compile("WorkflowId = 'a'").hidesOtherDivisions)
        #expect(try compile("").hidesOtherDivisions)
        #expect(try !compile("TemporalNamespaceDivision = 'TemporalScheduler'").hidesOtherDivisions)
        #expect(try !compile("GROUP BY TemporalNamespaceDivision", .count).hidesOtherDivisions)
        #expect(try compile("").plan.description == "TemporalNamespaceDivision IS NULL")
        // The documented way to see every division normalizes to "no condition".
        let any = try compile("(WorkflowType = 'wt') AND (TemporalNamespaceDivision IS NULL OR TemporalNamespaceDivision IS NOT NULL)").plan
        #expect(any.filter == .oneOf(QueryField(AttributeCatalog.builtIn("WorkflowType")!), [.string("wt")], negated: false))
    }
}
