/// Reads tokens into a `SyntaxStatement`. Recursive descent with MySQL's precedence
/// (OR < AND < NOT < predicates); AND and OR chains are read in a loop, so recursion only
/// grows with nesting, which is bounded by `QueryLimits.nestingMax`.
struct Parser {
    private let tokens: [Token]
    private let bytes: [UInt8]
    private let limits: QueryLimits
    private var index = 0
    private var nesting = 0

    /// A node and the depth of the binary tree Temporal's parser would have built for it.
    private struct Parsed {
        var node: SyntaxNode
        var depth: Int
    }

    static func parse(_ text: String, limits: QueryLimits) throws(QueryError) -> SyntaxStatement {
        let bytes = Array(text.utf8)
        guard bytes.count <= limits.queryBytesMax else {
            throw QueryError(.tooLarge, "the query is \(bytes.count) bytes; the limit is \(limits.queryBytesMax)",
                             span: nil, in: bytes)
        }
        var parser = Parser(tokens: try Lexer.tokenize(text), bytes: bytes, limits: limits)
        return try parser.statement()
    }

    private init(tokens: [Token], bytes: [UInt8], limits: QueryLimits) {
        self.tokens = tokens
        self.bytes = bytes
        self.limits = limits
    }

    // MARK: Statement

    private mutating func statement() throws(QueryError) -> SyntaxStatement {
        var statement = SyntaxStatement()
        if !isKeyword(.order) && !isKeyword(.group) && current.kind != .end {
            statement.filter = try expression().node
        }
        if isKeyword(.group) {
            let start = current.span
            advance()
            try expectKeyword(.by)
            repeat {
                statement.groupBy.append(try operand().node)
            } while takeSymbol(",")
            statement.groupBySpan = start.through(tokens[index - 1].span)
        }
        if isKeyword(.having) {
            throw QueryError.unsupported("'HAVING' clause", at: current.span, in: bytes)
        }
        if isKeyword(.order) {
            advance()
            try expectKeyword(.by)
            repeat {
                let column = try operand().node
                var descending = false
                if takeKeyword(.desc) { descending = true } else { _ = takeKeyword(.asc) }
                statement.orderBy.append(SyntaxSortKey(column: column, descending: descending))
            } while takeSymbol(",")
        }
        if isKeyword(.limit) {
            let start = current.span
            advance()
            try expectNumber()
            if takeSymbol(",") || takeKeyword(.offset) { try expectNumber() }
            statement.limitSpan = start.through(tokens[index - 1].span)
        }
        guard current.kind == .end else { throw syntaxError() }
        return statement
    }

    // MARK: Expressions

    private mutating func expression() throws(QueryError) -> Parsed {
        try chain(of: .or, symbol: "||", term: { (parser: inout Parser) throws(QueryError) in
            try parser.chain(of: .and, symbol: "&&", term: { (parser: inout Parser) throws(QueryError) in try parser.negation() })
        })
    }

    /// `term {op term}`, kept flat; depth as the left-deep binary tree it stands for.
    private mutating func chain(of keyword: Keyword, symbol: String,
                                term: (inout Parser) throws(QueryError) -> Parsed) throws(QueryError) -> Parsed {
        var first = try term(&self)
        guard isKeyword(keyword) || isSymbol(symbol) else { return first }
        var terms = [first.node]
        while takeKeyword(keyword) || takeSymbol(symbol) {
            let next = try term(&self)
            terms.append(next.node)
            first.depth = 1 + max(first.depth, next.depth)
            try checkDepth(first.depth)
        }
        return Parsed(node: keyword == .and ? .and(terms) : .or(terms), depth: first.depth)
    }

    private mutating func negation() throws(QueryError) -> Parsed {
        guard isKeyword(.not) else { return try predicate() }
        let start = current.span
        advance()
        try enterNesting(at: start)
        defer { nesting -= 1 }
        let inner = try negation()
        try checkDepth(inner.depth + 1)
        return Parsed(node: .not(inner.node, start.through(inner.node.span)), depth: inner.depth + 1)
    }

    private mutating func predicate() throws(QueryError) -> Parsed {
        let left = try operand()
        let operatorSpan = current.span
        if case .symbol(let text) = current.kind, let op = Self.comparisonOperators[text] {
            advance()
            let right = try operand()
            return Parsed(node: .comparison(op, left.node, right.node, operatorSpan: operatorSpan),
                          depth: 1 + max(left.depth, right.depth))
        }
        let negated = takeKeyword(.not)
        guard case .keyword(let keyword) = current.kind else {
            if negated { throw syntaxError("expected IN, BETWEEN, STARTS_WITH, LIKE or REGEXP after NOT") }
            return left
        }
        switch keyword {
        case .in:
            advance()
            guard takeSymbol("(") else { throw syntaxError("expected '(' and a list of values after IN") }
            var values: [SyntaxNode] = []
            var depth = left.depth
            repeat {
                let value = try operand()
                values.append(value.node)
                depth = max(depth, value.depth)
            } while takeSymbol(",")
            guard takeSymbol(")") else { throw syntaxError("expected ',' or ')' in the IN list") }
            return Parsed(node: .inList(left.node, values, negated: negated, operatorSpan: operatorSpan), depth: depth + 1)
        case .between:
            advance()
            let low = try operand()
            guard takeKeyword(.and) || takeSymbol("&&") else { throw syntaxError("expected AND between the two bounds of BETWEEN") }
            let high = try operand()
            return Parsed(node: .between(left.node, low.node, high.node, negated: negated, operatorSpan: operatorSpan),
                          depth: 1 + max(left.depth, low.depth, high.depth))
        case .starts_with:
            advance()
            let right = try operand()
            return Parsed(node: .startsWith(left.node, right.node, negated: negated, operatorSpan: operatorSpan),
                          depth: 1 + max(left.depth, right.depth))
        case .like, .regexp, .rlike:
            advance()
            let right = try operand()
            if takeKeyword(.escape) { _ = try operand() }
            let op: SyntaxOperator = keyword == .like ? (negated ? .notLike : .like) : (negated ? .notRegexp : .regexp)
            return Parsed(node: .comparison(op, left.node, right.node, operatorSpan: operatorSpan), depth: 1 + max(left.depth, right.depth))
        case .is where !negated:
            advance()
            let not = takeKeyword(.not)
            let check: IsCheck
            if takeKeyword(.null) { check = not ? .notNull : .null }
            else if takeKeyword(.true) { check = not ? .notTrue : .true }
            else if takeKeyword(.false) { check = not ? .notFalse : .false }
            else { throw syntaxError("expected NULL or NOT NULL after IS") }
            return Parsed(node: .isCheck(left.node, check, operatorSpan: operatorSpan.through(tokens[index - 1].span)),
                          depth: left.depth + 1)
        default:
            if negated { throw syntaxError("expected IN, BETWEEN, STARTS_WITH, LIKE or REGEXP after NOT") }
            return left
        }
    }

    private static let comparisonOperators: [String: SyntaxOperator] = [
        "=": .comparison(.equal), "!=": .comparison(.notEqual), "<>": .comparison(.notEqual),
        "<": .comparison(.less), "<=": .comparison(.lessOrEqual), ">": .comparison(.greater),
        ">=": .comparison(.greaterOrEqual), "<=>": .nullSafeEqual,
    ]

    /// A column, a literal, a function call, or a parenthesized expression or list.
    private mutating func operand() throws(QueryError) -> Parsed {
        let token = current
        switch token.kind {
        case .identifier(let name):
            advance()
            if isSymbol("(") { return Parsed(node: .function(name, try skipArguments(from: token.span)), depth: 1) }
            return Parsed(node: .column(name, token.span), depth: 1)
        case .quotedIdentifier(let name):
            advance()
            return Parsed(node: .column(name, token.span), depth: 1)
        case .keyword(.match) where peek.kind == .symbol("("):
            advance()
            return Parsed(node: .function("match", try skipArguments(from: token.span)), depth: 1)
        case .string(let value):
            advance()
            return Parsed(node: .literal(.string(value), token.span), depth: 1)
        case .integer(let digits):
            advance()
            return Parsed(node: .literal(.integer(digits), token.span), depth: 1)
        case .float(let digits):
            advance()
            return Parsed(node: .literal(.float(digits), token.span), depth: 1)
        case .keyword(.true), .keyword(.false):
            advance()
            return Parsed(node: .literal(.bool(token.kind == .keyword(.true)), token.span), depth: 1)
        case .keyword(.null):
            advance()
            return Parsed(node: .literal(.null, token.span), depth: 1)
        case .symbol("-"), .symbol("+"):
            advance()
            try enterNesting(at: token.span)
            defer { nesting -= 1 }
            let sign = token.kind == .symbol("-") ? "-" : ""
            switch current.kind {
            case .integer(let digits):
                advance()
                return Parsed(node: .literal(.integer(sign + digits), token.span.through(tokens[index - 1].span)), depth: 1)
            case .float(let digits):
                advance()
                return Parsed(node: .literal(.float(sign + digits), token.span.through(tokens[index - 1].span)), depth: 1)
            default:
                throw syntaxError("a sign must be followed by a number")
            }
        case .symbol("("):
            advance()
            try enterNesting(at: token.span)
            defer { nesting -= 1 }
            let first = try expression()
            if takeSymbol(")") {
                try checkDepth(first.depth + 1)
                return Parsed(node: .parenthesized(first.node, token.span.through(tokens[index - 1].span)), depth: first.depth + 1)
            }
            guard isSymbol(",") else { throw syntaxError("expected ')'") }
            var items = [first.node]
            var depth = first.depth
            while takeSymbol(",") {
                let item = try operand()
                items.append(item.node)
                depth = max(depth, item.depth)
            }
            guard takeSymbol(")") else { throw syntaxError("expected ',' or ')'") }
            return Parsed(node: .tuple(items, token.span.through(tokens[index - 1].span)), depth: depth + 1)
        default:
            throw syntaxError()
        }
    }

    /// Skips a function's argument list, balanced, without recursing; returns the call's span.
    private mutating func skipArguments(from start: SourceSpan) throws(QueryError) -> SourceSpan {
        var open = 0
        repeat {
            switch current.kind {
            case .symbol("("): open += 1
            case .symbol(")"): open -= 1
            case .end: throw syntaxError("the function call's parentheses are never closed")
            default: break
            }
            advance()
        } while open > 0
        return start.through(tokens[index - 1].span)
    }

    // MARK: Token helpers

    private var current: Token { tokens[index] }
    private var peek: Token { tokens[min(index + 1, tokens.count - 1)] }
    private mutating func advance() { if index < tokens.count - 1 { index += 1 } }
    private func isKeyword(_ keyword: Keyword) -> Bool { current.kind == .keyword(keyword) }
    private func isSymbol(_ symbol: String) -> Bool { current.kind == .symbol(symbol) }

    private mutating func takeKeyword(_ keyword: Keyword) -> Bool {
        guard isKeyword(keyword) else { return false }
        advance()
        return true
    }

    private mutating func takeSymbol(_ symbol: String) -> Bool {
        guard isSymbol(symbol) else { return false }
        advance()
        return true
    }

    private mutating func expectKeyword(_ keyword: Keyword) throws(QueryError) {
        guard takeKeyword(keyword) else { throw syntaxError("expected \(keyword.rawValue.uppercased())") }
    }

    private mutating func expectNumber() throws(QueryError) {
        guard case .integer = current.kind else { throw syntaxError("expected a number") }
        advance()
    }

    private mutating func enterNesting(at span: SourceSpan) throws(QueryError) {
        nesting += 1
        guard nesting <= limits.nestingMax else {
            throw QueryError(.tooLarge, "malformed SQL query: max nesting level reached (\(limits.nestingMax) levels of "
                + "parentheses, NOT and signs)", span: span, in: bytes)
        }
    }

    private func checkDepth(_ depth: Int) throws(QueryError) {
        guard depth <= limits.treeDepthMax else {
            throw QueryError(.tooLarge, "malformed SQL query: max ast depth reached (\(limits.treeDepthMax)); "
                + "a chain of more than \(limits.treeDepthMax) conditions joined by AND or OR is too long",
                             span: current.span, in: bytes)
        }
    }

    private func syntaxError(_ detail: String? = nil) -> QueryError {
        QueryError.syntax(detail, near: current.span, in: bytes)
    }
}
