/// What the parser read, before names and types mean anything: a MySQL-shaped expression
/// tree, so that things Temporal parses and then refuses (functions, LIKE, a column on the
/// right, `IS TRUE`, LIMIT) can be refused with Temporal's words and a position.
indirect enum SyntaxNode: Sendable {
    case column(String, SourceSpan)
    case literal(SyntaxLiteral, SourceSpan)
    case function(String, SourceSpan)
    /// `(a, b, …)` where a single value was expected.
    case tuple([SyntaxNode], SourceSpan)
    case comparison(SyntaxOperator, SyntaxNode, SyntaxNode, operatorSpan: SourceSpan)
    case inList(SyntaxNode, [SyntaxNode], negated: Bool, operatorSpan: SourceSpan)
    case between(SyntaxNode, SyntaxNode, SyntaxNode, negated: Bool, operatorSpan: SourceSpan)
    case startsWith(SyntaxNode, SyntaxNode, negated: Bool, operatorSpan: SourceSpan)
    case isCheck(SyntaxNode, IsCheck, operatorSpan: SourceSpan)
    case not(SyntaxNode, SourceSpan)
    case and([SyntaxNode])
    case or([SyntaxNode])
    case parenthesized(SyntaxNode, SourceSpan)

    var span: SourceSpan {
        switch self {
        case .column(_, let span), .literal(_, let span), .function(_, let span), .tuple(_, let span),
             .not(_, let span), .parenthesized(_, let span):
            return span
        case .comparison(_, let left, let right, _): return left.span.through(right.span)
        case .inList(let left, _, _, let operatorSpan), .isCheck(let left, _, let operatorSpan):
            return left.span.through(operatorSpan)
        case .between(let left, _, let high, _, _): return left.span.through(high.span)
        case .startsWith(let left, let right, _, _): return left.span.through(right.span)
        case .and(let terms), .or(let terms): return terms.first!.span.through(terms.last!.span)
        }
    }
}

enum SyntaxLiteral: Sendable, Equatable {
    case string(String)
    /// The digits as written (with a leading `-` if negative).
    case integer(String)
    case float(String)
    case bool(Bool)
    case null
}

/// A binary operator as written: the six comparisons the language has, and the ones MySQL
/// has that it refuses (with a message naming them).
enum SyntaxOperator: Sendable, Equatable {
    case comparison(ComparisonOperator)
    case like, notLike, regexp, notRegexp, nullSafeEqual

    var text: String {
        switch self {
        case .comparison(let op): op.rawValue
        case .like: "LIKE"
        case .notLike: "NOT LIKE"
        case .regexp: "REGEXP"
        case .notRegexp: "NOT REGEXP"
        case .nullSafeEqual: "<=>"
        }
    }
}

enum IsCheck: String, Sendable {
    case null = "IS NULL"
    case notNull = "IS NOT NULL"
    case `true` = "IS TRUE"
    case notTrue = "IS NOT TRUE"
    case `false` = "IS FALSE"
    case notFalse = "IS NOT FALSE"
}

struct SyntaxSortKey: Sendable {
    let column: SyntaxNode
    let descending: Bool
}

/// A whole query: `[filter] [GROUP BY …] [ORDER BY …] [LIMIT …]`.
struct SyntaxStatement: Sendable {
    var filter: SyntaxNode?
    var groupBy: [SyntaxNode] = []
    var groupBySpan: SourceSpan?
    var orderBy: [SyntaxSortKey] = []
    var limitSpan: SourceSpan?
}
