import Testing
@testable import PeriscopeModel

@Suite struct ValidationTests {
    static let schema = try! NamespaceSchema(customAttributes: [
        "CustomKeyword": .keyword, "CustomKeywordList": .keywordList, "CustomText": .text, "CustomInt": .int,
        "CustomDouble": .double, "CustomBool": .bool, "CustomDatetime": .datetime,
    ])

    static func record(_ attributes: [String: SearchAttributeValue] = [:]) -> VisibilityRecord {
        VisibilityRecord(
            key: ExecutionKey(namespaceId: "ns-1", workflowId: "order-42", runId: "run-1"),
            version: 7, workflowType: "OrderWorkflow", taskQueue: "orders", status: .running,
            startTime: Timestamp(secondsSinceEpoch: 1_700_000_000), searchAttributes: attributes)
    }

    static let sampleOfEachType: [SearchAttributeValue] = [
        .keyword("k"), .keywordList(["a", "b"]), .text("some words"), .int(42), .double(1.5), .bool(true),
        .datetime(Timestamp(secondsSinceEpoch: 1_700_000_000)),
    ]

    @Test func validRecordWithEveryTypePasses() throws {
        let attributes: [String: SearchAttributeValue] = [
            "CustomKeyword": .keyword("k"), "CustomKeywordList": .keywordList(["a", "b"]), "CustomText": .text("t"),
            "CustomInt": .int(-3), "CustomDouble": .double(2.25), "CustomBool": .bool(false),
            "CustomDatetime": .datetime(.epoch), "BuildIds": .keywordList(["v1"]), "TemporalNamespaceDivision": .keyword("x"),
        ]
        try Self.schema.validate(Self.record(attributes))
    }

    /// Every registered type refuses a value of every other type, naming the attribute.
    @Test(arguments: SearchAttributeType.allCases)
    func wrongTypeIsRefusedNamingTheAttribute(registered: SearchAttributeType) {
        let name = Self.schema.customAttributes.first { $0.value == registered }!.key
        for value in Self.sampleOfEachType where value.type != registered {
            let problems = Self.schema.problems(in: [name: value])
            #expect(problems.count == 1)
            #expect(problems.first?.field == name)
            #expect(problems.first?.reason == .wrongType(expected: registered, actual: value.type))
            #expect(problems.first?.message.hasPrefix("invalid value for search attribute \(name) of type \(registered.name): ") == true)
        }
    }

    @Test func predefinedAttributesAreTyped() {
        let problems = Self.schema.problems(in: ["BuildIds": .keyword("v1")])
        #expect(problems.map(\.reason) == [.wrongType(expected: .keywordList, actual: .keyword)])
    }

    @Test func undefinedAndSystemAttributesAreRefused() {
        let problems = Self.schema.problems(in: ["Unknown": .keyword("x"), "WorkflowType": .keyword("Other")])
        #expect(problems.map(\.message) == [
            "search attribute Unknown is not defined",
            "WorkflowType attribute can't be set in SearchAttributes",
        ])
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity])
    func nonFiniteDoublesAreRefused(value: Double) {
        let problems = Self.schema.problems(in: ["CustomDouble": .double(value)])
        #expect(problems.map(\.reason) == [.invalidValue])
        #expect(problems.first?.field == "CustomDouble")
    }

    @Test func valueSizeLimitCountsTheJSONPayload() {
        // 2046 characters + 2 quotes = 2048 bytes: exactly at the limit.
        #expect(Self.schema.problems(in: ["CustomKeyword": .keyword(String(repeating: "x", count: 2046))]).isEmpty)
        let over = Self.schema.problems(in: ["CustomKeyword": .keyword(String(repeating: "x", count: 2047))])
        #expect(over.map(\.message) == ["search attribute CustomKeyword value size 2049 exceeds size limit 2048"])
        // Escapes count: 1023 quotes are 2046 payload bytes plus 2 = 2048, fine; one more is over.
        #expect(Self.schema.problems(in: ["CustomText": .text(String(repeating: "\"", count: 1023))]).isEmpty)
        #expect(Self.schema.problems(in: ["CustomText": .text(String(repeating: "\"", count: 1024))]).first?.field == "CustomText")
        let list = SearchAttributeValue.keywordList(Array(repeating: "abcdefghij", count: 200))  // 2 + 200*12 + 199
        #expect(Self.schema.problems(in: ["CustomKeywordList": list]).first?.reason == .valueTooLarge(bytes: 2601, limit: 2048))
    }

    @Test func payloadSizesMatchGoJSON() {
        #expect(PayloadSize.of(.keyword("abc")) == 5)
        #expect(PayloadSize.of(.keyword("a<b>&\n\u{1}é")) == 2 + 1 + 6 + 1 + 6 + 6 + 2 + 6 + 2)
        #expect(PayloadSize.of(.keywordList([])) == 2)
        #expect(PayloadSize.of(.keywordList(["a", "b"])) == 9)  // ["a","b"]
        #expect(PayloadSize.of(.int(-120)) == 4)
        #expect(PayloadSize.of(.bool(false)) == 5)
        #expect(PayloadSize.of(.datetime(.epoch)) == 22)  // "1970-01-01T00:00:00Z"
    }

    @Test func attributeCountLimit() {
        var schema = NamespaceSchema()
        var attributes: [String: SearchAttributeValue] = [:]
        for index in 0..<101 {
            try! schema.addCustomAttribute("Attr\(index)", type: .bool)
            attributes["Attr\(index)"] = .bool(true)
        }
        let problems = schema.problems(in: attributes)
        #expect(problems.map(\.message) == ["number of search attributes 101 exceeds limit 100"])
        attributes["Attr0"] = nil
        #expect(schema.problems(in: attributes).isEmpty)
    }

    @Test func totalSizeLimit() {
        var schema = NamespaceSchema()
        var attributes: [String: SearchAttributeValue] = [:]
        for index in 0..<25 {  // 25 × (6 name bytes + 1702 payload bytes) = 42,700 > 40,960
            try! schema.addCustomAttribute("Big\(String(index).leftPadded(to: 3))", type: .keyword)
            attributes["Big\(String(index).leftPadded(to: 3))"] = .keyword(String(repeating: "y", count: 1700))
        }
        let problems = schema.problems(in: attributes)
        #expect(problems.map(\.reason) == [.attributesTooLarge(bytes: 42_700, limit: 40_960)])
        #expect(problems.first?.message == "total size of search attributes 42700 exceeds size limit 40960")
    }

    @Test func recordFieldsAreChecked() {
        var record = Self.record(["Unknown": .int(1)])
        record.key.workflowId = ""
        record.taskQueue = String(repeating: "q", count: 1001)
        record.memo = [UInt8](repeating: 0, count: 2 * 1024 * 1024 + 1)
        record.historyLength = -1
        #expect {
            try Self.schema.validate(record)
        } throws: { error in
            guard let error = error as? RecordValidationError else { return false }
            return error.problems.map(\.field) == ["WorkflowId", "TaskQueue", "Memo", "HistoryLength", "Unknown"]
                && error.description.hasPrefix("invalid visibility record ns-1//run-1: WorkflowId is empty; TaskQueue length 1001 exceeds limit 1000")
        }
    }

    @Test func normalizedDropsEmptyLists() {
        let record = Self.record(["CustomKeywordList": .keywordList([]), "CustomKeyword": .keyword("")]).normalized()
        #expect(record.searchAttributes == ["CustomKeyword": .keyword("")])
    }
}
