import Testing
import PeriscopeModel

@Suite struct SchemaTests {
    @Test func registersAndRemovesCustomAttributes() throws {
        var schema = NamespaceSchema()
        try schema.addCustomAttribute("CustomerId", type: .keyword)
        try schema.addCustomAttribute("AliasWithHyphenFor-X", type: .int)
        try schema.addCustomAttribute("CustomerId", type: .keyword)  // idempotent
        #expect(schema.customAttributes == ["CustomerId": .keyword, "AliasWithHyphenFor-X": .int])
        #expect(schema.definition(of: "CustomerId") == AttributeDefinition(name: "CustomerId", type: .keyword, kind: .custom))
        #expect(schema.definition(of: "customerid") == nil, "names are case-sensitive")
        #expect(schema.definition(of: "StartTime")?.kind == .system)

        try schema.removeCustomAttribute("CustomerId")
        #expect(schema.definition(of: "CustomerId") == nil)
        #expect(throws: ValidationError.self) { try schema.removeCustomAttribute("CustomerId") }
    }

    @Test func conflictingTypeIsRefused() throws {
        var schema = try NamespaceSchema(customAttributes: ["Amount": .double])
        #expect {
            try schema.addCustomAttribute("Amount", type: .int)
        } throws: { error in
            (error as? ValidationError)?.message == "search attribute Amount already exists with type Double, cannot add it as Int"
        }
    }

    @Test(arguments: ["WorkflowId", "BuildIds", "TemporalNamespaceDivision", "TemporalMyThing", "Memo", "NamespaceId"])
    func reservedNamesAreRefused(name: String) {
        var schema = NamespaceSchema()
        #expect {
            try schema.addCustomAttribute(name, type: .keyword)
        } throws: { error in
            let error = error as? ValidationError
            return error?.reason == .reservedName && error?.message == "Search attribute \(name) is reserved by system."
        }
    }

    @Test(arguments: ["", "1Leading", "has space", "dotted.name", "semi;colon", "ünïcode", String(repeating: "a", count: 256)])
    func malformedNamesAreRefused(name: String) {
        var schema = NamespaceSchema()
        #expect {
            try schema.addCustomAttribute(name, type: .keyword)
        } throws: { error in
            let error = error as? ValidationError
            return error?.reason == .invalidName && error?.field == name
                && error?.message.hasPrefix("invalid search attribute name '\(name)'") == true
        }
    }

    @Test func customAttributeCountIsBounded() throws {
        var schema = NamespaceSchema(limits: ValidationLimits(customAttributesPerNamespaceMax: 3))
        for name in ["A", "B", "C"] { try schema.addCustomAttribute(name, type: .bool) }
        #expect {
            try schema.addCustomAttribute("D", type: .bool)
        } throws: { error in
            (error as? ValidationError)?.reason == .tooManyCustomAttributes(limit: 3)
        }
        try schema.addCustomAttribute("A", type: .bool)  // re-adding an existing one is still fine
    }
}
