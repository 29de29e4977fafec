import Testing
import PeriscopeModel

@Suite struct NamesTests {
    @Test func searchAttributeTypesCarryTemporalsNumbersAndNames() {
        #expect(SearchAttributeType.allCases.map(\.rawValue) == [1, 2, 3, 4, 5, 6, 7])
        #expect(SearchAttributeType.keywordList.name == "KeywordList")
        #expect(SearchAttributeType.keywordList.protoName == "INDEXED_VALUE_TYPE_KEYWORD_LIST")
        #expect(SearchAttributeType(name: "Datetime") == .datetime)
        #expect(SearchAttributeType(name: "INDEXED_VALUE_TYPE_DOUBLE") == .double)
        #expect(SearchAttributeType(name: "keyword") == nil, "names are case-sensitive")
        #expect(SearchAttributeType.allCases.filter(\.isSortable) == [.keyword, .int, .double, .bool, .datetime])
    }

    @Test func executionStatusesParseBothForms() {
        #expect(ExecutionStatus(name: "Running") == .running)
        #expect(ExecutionStatus(name: "WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW") == .continuedAsNew)
        #expect(ExecutionStatus(name: "WORKFLOW_EXECUTION_STATUS_TIMED_OUT") == .timedOut)
        #expect(ExecutionStatus(name: "Paused")?.rawValue == 8)
        #expect(ExecutionStatus(name: "running") == nil)
        #expect(ExecutionStatus(name: "Foo") == nil)
        #expect(ExecutionStatus.allCases.filter(\.isOpen) == [.running, .paused])
        for status in ExecutionStatus.allCases {
            #expect(ExecutionStatus(name: status.name) == status)
            #expect(ExecutionStatus(name: status.protoName) == status)
        }
    }

    @Test func catalogMatchesTemporalsAttributes() {
        #expect(AttributeCatalog.system.count == 16)
        #expect(AttributeCatalog.predefined.count == 17)
        #expect(AttributeCatalog.builtIn("ExecutionDuration") == AttributeDefinition(name: "ExecutionDuration", type: .int, kind: .system))
        #expect(AttributeCatalog.builtIn("BuildIds")?.kind == .predefined)
        #expect(AttributeCatalog.builtIn("CustomerId") == nil)
        #expect(AttributeCatalog.isReserved("Memo"))
        #expect(AttributeCatalog.isReserved("TemporalAnything"))
        #expect(!AttributeCatalog.isReserved("CustomerId"))
    }
}
