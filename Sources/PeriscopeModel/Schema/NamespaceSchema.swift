/// A namespace's search-attribute schema: its registered custom attributes and its limits.
public struct NamespaceSchema: Sendable, Equatable {
    public private(set) var customAttributes: [String: SearchAttributeType]
    public var limits: ValidationLimits

    public init(limits: ValidationLimits = .temporalDefaults) {
        self.customAttributes = [:]
        self.limits = limits
    }

    /// A schema with these custom attributes; throws the first invalid one.
    public init(customAttributes: [String: SearchAttributeType], limits: ValidationLimits = .temporalDefaults) throws(ValidationError) {
        self.init(limits: limits)
        for (name, type) in customAttributes.sorted(by: { $0.key < $1.key }) {
            try addCustomAttribute(name, type: type)
        }
    }

    /// The definition of the attribute called exactly `name`: built-in first, then custom.
    public func definition(of name: String) -> AttributeDefinition? {
        if let builtIn = AttributeCatalog.builtIn(name) { return builtIn }
        return customAttributes[name].map { AttributeDefinition(name: name, type: $0, kind: .custom) }
    }

    /// Registers a custom attribute. Idempotent for the same name and type, as Temporal's
    /// `AddSearchAttributes` must be.
    public mutating func addCustomAttribute(_ name: String, type: SearchAttributeType) throws(ValidationError) {
        try Self.checkName(name, limits: limits)
        if let existing = customAttributes[name] {
            guard existing == type else {
                throw ValidationError(field: name, reason: .attributeExists(type: existing), message:
                    "search attribute \(name) already exists with type \(existing), cannot add it as \(type)")
            }
            return
        }
        guard customAttributes.count < limits.customAttributesPerNamespaceMax else {
            throw ValidationError(field: name, reason: .tooManyCustomAttributes(limit: limits.customAttributesPerNamespaceMax),
                                  message: "Unable to create search attributes: cannot have more than "
                                      + "\(limits.customAttributesPerNamespaceMax) custom search attributes.")
        }
        customAttributes[name] = type
    }

    /// Unregisters a custom attribute. Values already written stay in records until they are
    /// next written; queries can no longer name the attribute.
    public mutating func removeCustomAttribute(_ name: String) throws(ValidationError) {
        guard customAttributes.removeValue(forKey: name) != nil else {
            throw ValidationError(field: name, reason: .undefinedAttribute, message: "search attribute \(name) is not defined")
        }
    }

    private static func checkName(_ name: String, limits: ValidationLimits) throws(ValidationError) {
        if AttributeCatalog.isReserved(name) {
            throw ValidationError(field: name, reason: .reservedName, message: "Search attribute \(name) is reserved by system.")
        }
        let bytes = Array(name.utf8)
        func invalid(_ why: String) -> ValidationError {
            ValidationError(field: name, reason: .invalidName, message: "invalid search attribute name '\(name)': \(why)")
        }
        guard let first = bytes.first else { throw invalid("it is empty") }
        guard bytes.count <= limits.attributeNameBytesMax else {
            throw invalid("\(bytes.count) bytes, longer than \(limits.attributeNameBytesMax)")
        }
        guard isLetter(first) else { throw invalid("it must start with a letter") }
        guard bytes.allSatisfy({ isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }) else {
            throw invalid("only letters, digits, '_' and '-' are allowed")
        }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
}
