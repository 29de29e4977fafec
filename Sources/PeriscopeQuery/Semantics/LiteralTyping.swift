import PeriscopeModel

/// Gives a literal the type of the attribute it is compared with, as Temporal's unified
/// converter does (`validateValueType` and the ExecutionStatus/ExecutionDuration/Datetime
/// conversions), with Temporal's error texts.
struct LiteralTyping {
    let bytes: [UInt8]

    func value(_ literal: SyntaxLiteral, span: SourceSpan, for field: QueryField, writtenAs name: String) throws(QueryError) -> QueryValue {
        func mismatch(_ typeName: String? = nil) -> QueryError {
            QueryError.invalid("invalid value type for search attribute \(name) of type \(typeName ?? field.type.name): "
                + "\(Self.goDescription(literal))", at: span, in: bytes)
        }
        if literal == .null {
            throw QueryError.unsupported("NULL is not a value to compare with; use \(name) IS NULL or \(name) IS NOT NULL",
                                         at: span, in: bytes)
        }
        if field.isExecutionStatus {
            switch literal {
            case .string(let text):
                guard let status = ExecutionStatus(name: text) else {
                    throw QueryError.invalid("invalid ExecutionStatus value '\(text)'", at: span, in: bytes)
                }
                return .status(status)
            case .integer(let digits):
                guard let number = Int32(digits), let status = ExecutionStatus(rawValue: number) else {
                    throw QueryError.invalid("invalid ExecutionStatus value \(digits)", at: span, in: bytes)
                }
                return .status(status)
            default:
                throw mismatch()
            }
        }
        if field.isExecutionDuration, case .string(let text) = literal {
            guard let nanoseconds = DurationText.nanoseconds(text) else {
                throw QueryError.invalid("invalid value for search attribute ExecutionDuration: \(text) (invalid duration)",
                                         at: span, in: bytes)
            }
            return .int(nanoseconds)
        }
        switch field.type {
        case .keyword, .keywordList, .text:
            guard case .string(let text) = literal else { throw mismatch() }
            return .string(text)
        case .bool:
            guard case .bool(let flag) = literal else { throw mismatch() }
            return .bool(flag)
        case .int, .double:
            let number: QueryValue
            switch literal {
            case .integer(let digits): number = try self.number(digits, span: span)
            case .float(let digits): number = try self.number(digits, span: span)
            default: throw mismatch()
            }
            return Self.canonicalNumber(number, for: field.type)
        case .datetime:
            switch literal {
            case .string(let text):
                do {
                    return .datetime(try Timestamp(rfc3339: text))
                } catch {
                    throw QueryError.invalid(error.description, at: span, in: bytes)
                }
            case .integer(let digits):
                guard let nanoseconds = Int64(digits) else {
                    throw QueryError.invalid("\(digits) is out of range for epoch nanoseconds", at: span, in: bytes)
                }
                return .datetime(Timestamp(nanosecondsSinceEpoch: nanoseconds))
            default:
                throw mismatch()
            }
        }
    }

    /// An int64 if the digits fit, else a float, as MySQL and Temporal read numbers.
    private func number(_ digits: String, span: SourceSpan) throws(QueryError) -> QueryValue {
        if let integer = Int64(digits) { return .int(integer) }
        guard let float = Double(digits), float.isFinite else {
            throw QueryError.invalid("the number \(digits) is out of range", at: span, in: bytes)
        }
        return .double(float)
    }

    /// One spelling per number, so equal plans compare equal: a Double attribute holds
    /// doubles; an Int attribute holds ints unless the value has a fraction (Temporal
    /// accepts `Int = 1.5`).
    static func canonicalNumber(_ value: QueryValue, for type: SearchAttributeType) -> QueryValue {
        switch (value, type) {
        case (.int(let integer), .double): return .double(Double(integer))
        case (.double(let float), .int):
            if float.rounded() == float, let integer = Int64(exactly: float) { return .int(integer) }
            return value
        default: return value
        }
    }

    /// The literal as Go's `%v (type: %T)` prints it in Temporal's message.
    static func goDescription(_ literal: SyntaxLiteral) -> String {
        switch literal {
        case .string(let text):
            let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(escaped)\" (type: string)"
        case .integer(let digits): return Int64(digits) != nil ? "\(digits) (type: int64)" : "\(digits) (type: float64)"
        case .float(let digits): return "\(Double(digits).map { "\($0)" } ?? digits) (type: float64)"
        case .bool(let flag): return "\(flag) (type: bool)"
        case .null: return "NULL"
        }
    }
}

private extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
