/// Renders typed predicates and plans back into List Filter text that parses to the same
/// plan: canonical names (bare unless they need backticks), single-quoted strings with
/// backslash escapes, datetimes in RFC 3339 with nanoseconds, statuses by name.
enum QueryPrinter {
    /// The text of a whole condition.
    static func filterText(_ predicate: Predicate) -> String { text(predicate, inside: .top) }

    private enum Context { case top, and, or, not }

    private static func text(_ predicate: Predicate, inside context: Context) -> String {
        switch predicate {
        case .and(let terms):
            let joined = terms.map { text($0, inside: .and) }.joined(separator: " AND ")
            return context == .top || context == .and ? joined : "(\(joined))"
        case .or(let terms):
            let joined = terms.map { text($0, inside: .or) }.joined(separator: " OR ")
            return context == .top || context == .or ? joined : "(\(joined))"
        case .not(let inner):
            return "NOT (\(text(inner, inside: .top)))"
        case .constant(true):
            return "(RunId IS NULL OR RunId IS NOT NULL)"
        case .constant(false):
            // The grammar has no FALSE condition; this contradiction normalizes to one.
            let contradiction = "RunId = '' AND RunId != ''"
            return context == .top || context == .and ? contradiction : "(\(contradiction))"
        case .compare(let field, let op, let value):
            return "\(name(field)) \(op.rawValue) \(literal(value))"
        case .oneOf(let field, let values, let negated):
            if values.count == 1 { return "\(name(field)) \(negated ? "!=" : "=") \(literal(values[0]))" }
            return "\(name(field)) \(negated ? "NOT IN" : "IN") (\(values.map(literal).joined(separator: ", ")))"
        case .between(let field, let low, let high, let negated):
            return "\(name(field)) \(negated ? "NOT BETWEEN" : "BETWEEN") \(literal(low)) AND \(literal(high))"
        case .range(let field, let lower, let upper):
            if let lower, let upper, lower.inclusive, upper.inclusive {
                return "\(name(field)) BETWEEN \(literal(lower.value)) AND \(literal(upper.value))"
            }
            var parts: [String] = []
            if let lower { parts.append("\(name(field)) \(lower.inclusive ? ">=" : ">") \(literal(lower.value))") }
            if let upper { parts.append("\(name(field)) \(upper.inclusive ? "<=" : "<") \(literal(upper.value))") }
            let joined = parts.joined(separator: " AND ")
            return parts.count == 1 || context == .top || context == .and ? joined : "(\(joined))"
        case .startsWith(let field, let prefix, let negated):
            return "\(name(field)) \(negated ? "NOT STARTS_WITH" : "STARTS_WITH") \(literal(.string(prefix)))"
        case .isNull(let field, let negated):
            return "\(name(field)) \(negated ? "IS NOT NULL" : "IS NULL")"
        }
    }

    static func name(_ field: QueryField) -> String {
        let bytes = Array(field.name.utf8)
        if let first = bytes.first, Lexer.isNameStart(first), bytes.allSatisfy(Lexer.isNamePart),
           Keyword(word: Substring(field.name)) == nil {
            return field.name
        }
        return "`" + field.name.split(separator: "`", omittingEmptySubsequences: false).joined(separator: "``") + "`"
    }

    static func literal(_ value: QueryValue) -> String {
        switch value {
        case .string(let string):
            var escaped = "'"
            for character in string.unicodeScalars {
                switch character {
                case "'": escaped += "\\'"
                case "\\": escaped += "\\\\"
                default: escaped.unicodeScalars.append(character)
                }
            }
            return escaped + "'"
        case .int(let number): return String(number)
        case .double(let number):
            let text = "\(number)"
            return text.contains(where: { $0 == "." || $0 == "e" }) ? text : text + ".0"
        case .bool(let flag): return flag ? "TRUE" : "FALSE"
        case .datetime(let time): return "'\(time.rfc3339)'"
        case .status(let status): return "'\(status.name)'"
        }
    }
}
