import PeriscopeModel

/// Turns a parsed statement into a typed `Query` against one namespace's schema, refusing
/// what Temporal's unified converter refuses, in its words, and what Periscope's
/// extensions (ORDER BY on any sortable attribute, GROUP BY on Keyword and Bool attributes)
/// do not allow.
struct Validator {
    let resolver: NameResolver
    let context: QueryContext
    let bytes: [UInt8]
    private(set) var namesDivision = false

    init(schema: NamespaceSchema, context: QueryContext, bytes: [UInt8]) {
        self.resolver = NameResolver(schema: schema)
        self.context = context
        self.bytes = bytes
    }

    mutating func validate(_ statement: SyntaxStatement) throws(QueryError) -> (filter: Predicate?, groupBy: QueryField?, orderBy: [SortKey]) {
        if let limit = statement.limitSpan {
            throw QueryError.unsupported("'LIMIT' clause (page size is a parameter of the call, not of the query)", at: limit, in: bytes)
        }
        let filter = try statement.filter.map { (node) throws(QueryError) in try predicate(node) }
        let groupBy = try group(statement)
        var orderBy: [SortKey] = []
        for key in statement.orderBy {
            let (field, name) = try column(key.column)
            guard field.isSortable else {
                throw QueryError.unsupported("unable to sort by search attribute type \(field.type.name)", at: key.column.span, in: bytes)
            }
            guard !orderBy.contains(where: { $0.field == field }) else {
                throw QueryError.invalid("ORDER BY names \(name) more than once", at: key.column.span, in: bytes)
            }
            orderBy.append(SortKey(field, descending: key.descending))
        }
        return (filter, groupBy, orderBy)
    }

    private mutating func group(_ statement: SyntaxStatement) throws(QueryError) -> QueryField? {
        guard let first = statement.groupBy.first else { return nil }
        guard context == .count else {
            throw QueryError.unsupported("'GROUP BY' clause (only a count can group; a list cannot)",
                                         at: statement.groupBySpan, in: bytes)
        }
        guard statement.groupBy.count == 1 else {
            throw QueryError.unsupported("'GROUP BY' clause supports only a single field", at: statement.groupBySpan, in: bytes)
        }
        let (field, name) = try column(first)
        guard field.type == .keyword || field.type == .bool else {
            throw QueryError.unsupported("'GROUP BY' clause is not supported for search attribute \(name) "
                + "(\(field.type.name); counts group by a Keyword or Bool attribute)", at: first.span, in: bytes)
        }
        return field
    }

    // MARK: Conditions

    private mutating func predicate(_ node: SyntaxNode) throws(QueryError) -> Predicate {
        switch node {
        case .and(let terms):
            var converted: [Predicate] = []
            for term in terms { converted.append(try predicate(term)) }
            return .and(converted)
        case .or(let terms):
            var converted: [Predicate] = []
            for term in terms { converted.append(try predicate(term)) }
            return .or(converted)
        case .not(let inner, _):
            return .not(try predicate(inner))
        case .parenthesized(let inner, _):
            return try predicate(inner)
        case .literal(.bool, let span):
            throw QueryError.unsupported("expression of type sqlparser.BoolVal (a condition compares an attribute)", at: span, in: bytes)
        case .literal(_, let span):
            throw QueryError.unsupported("expression of type *sqlparser.SQLVal (a value alone is not a condition)", at: span, in: bytes)
        case .column(let name, let span):
            _ = try column(node)
            throw QueryError.invalid("incomplete expression: \(name) alone is not a condition; compare it with a value",
                                     at: span, in: bytes)
        case .function(_, let span):
            throw QueryError.unsupported("function expression", at: span, in: bytes)
        case .tuple(_, let span):
            throw QueryError.unsupported("expression of type sqlparser.ValTuple (a list is not a condition)", at: span, in: bytes)
        case .comparison(let op, let left, let right, let operatorSpan):
            return try comparison(op, left, right, operatorSpan: operatorSpan)
        case .inList(let left, let values, let negated, let operatorSpan):
            let (field, name) = try column(left)
            guard field.type != .text else {
                throw unsupportedOperator(negated ? "NOT IN" : "IN", field, name, at: operatorSpan)
            }
            var typed: [QueryValue] = []
            for value in values { typed.append(try self.value(value, for: field, writtenAs: name)) }
            return .oneOf(field, typed, negated: negated)
        case .between(let left, let low, let high, let negated, _):
            let (field, name) = try column(left)
            guard field.isSortable, field.type != .bool else {
                throw QueryError.invalid("cannot do range condition on search attribute '\(name)' of type \(field.type.name)",
                                         at: left.span, in: bytes)
            }
            return .between(field, try value(low, for: field, writtenAs: name), try value(high, for: field, writtenAs: name),
                            negated: negated)
        case .startsWith(let left, let right, let negated, let operatorSpan):
            let (field, name) = try column(left)
            guard field.type == .keyword, !field.isExecutionStatus else {
                throw unsupportedOperator(negated ? "NOT STARTS_WITH" : "STARTS_WITH", field, name, at: operatorSpan)
            }
            guard case .literal(.string(let prefix), _) = right else {
                throw QueryError.invalid("right-hand side of 'starts_with' must be a literal string (got: \(text(of: right)))",
                                         at: right.span, in: bytes)
            }
            return .startsWith(field, prefix, negated: negated)
        case .isCheck(let left, let check, let operatorSpan):
            let (field, _) = try column(left)
            switch check {
            case .null: return .isNull(field, negated: false)
            case .notNull: return .isNull(field, negated: true)
            default:
                throw QueryError.invalid("'IS' operator can only be used as 'IS NULL' or 'IS NOT NULL'", at: operatorSpan, in: bytes)
            }
        }
    }

    private mutating func comparison(_ op: SyntaxOperator, _ left: SyntaxNode, _ right: SyntaxNode,
                                     operatorSpan: SourceSpan) throws(QueryError) -> Predicate {
        let (field, name) = try column(left)
        guard case .comparison(let comparison) = op else {
            throw unsupportedOperator(op.text, field, name, at: operatorSpan)
        }
        if !field.isScalar, comparison != .equal, comparison != .notEqual {
            throw unsupportedOperator(comparison.rawValue, field, name, at: operatorSpan)
        }
        let typed = try value(right, for: field, writtenAs: name)
        if field.type == .text, case .string(let text) = typed, TextTokens.tokens(text).isEmpty {
            throw QueryError.invalid("unexpected value for Text type search attribute (no tokens found): '\(text)' has no "
                + "letters or digits to match", at: right.span, in: bytes)
        }
        return .compare(field, comparison, typed)
    }

    // MARK: Operands

    /// The attribute a column names, and the name as written (for messages).
    private mutating func column(_ node: SyntaxNode) throws(QueryError) -> (QueryField, String) {
        switch node {
        case .column(let name, let span):
            guard let field = resolver.resolve(name) else {
                throw QueryError.invalid("column name '\(name)' is not a valid search attribute", at: span, in: bytes)
            }
            if field == .namespaceDivision { namesDivision = true }
            return (field, name)
        case .literal(let literal, let span):
            let goType = switch literal {
            case .bool: "sqlparser.BoolVal"
            case .null: "*sqlparser.NullVal"
            default: "*sqlparser.SQLVal"
            }
            throw QueryError.invalid("must be a column name but was \(goType) (\(text(of: node)))", at: span, in: bytes)
        case .function(_, let span):
            throw QueryError.unsupported("function expression", at: span, in: bytes)
        default:
            throw QueryError.invalid("must be a column name but was an expression (\(text(of: node)))", at: node.span, in: bytes)
        }
    }

    private func value(_ node: SyntaxNode, for field: QueryField, writtenAs name: String) throws(QueryError) -> QueryValue {
        switch node {
        case .literal(let literal, let span):
            return try LiteralTyping(bytes: bytes).value(literal, span: span, for: field, writtenAs: name)
        case .column(let other, let span):
            throw QueryError.unsupported("column name on the right side of comparison expression (did you forget to quote \"\(other)\"?)",
                                         at: span, in: bytes)
        case .function(_, let span):
            throw QueryError.unsupported("function expression", at: span, in: bytes)
        default:
            throw QueryError.unsupported("'\(text(of: node))' as a value: only literals can be compared with \(name)",
                                         at: node.span, in: bytes)
        }
    }

    private func unsupportedOperator(_ op: String, _ field: QueryField, _ name: String, at span: SourceSpan) -> QueryError {
        QueryError.unsupported("operator '\(op)' not supported for \(field.type.name) type search attribute '\(name)'", at: span, in: bytes)
    }

    private func text(of node: SyntaxNode) -> String {
        let span = node.span
        return String(decoding: bytes[min(span.start, bytes.count)..<min(span.end, bytes.count)], as: UTF8.self)
    }
}
