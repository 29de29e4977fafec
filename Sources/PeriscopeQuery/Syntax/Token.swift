/// A byte range of the query text, for error positions and carets.
public struct SourceSpan: Hashable, Sendable {
    /// UTF-8 offsets into the query as given.
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    /// From the start of `self` to the end of `other`.
    func through(_ other: SourceSpan) -> SourceSpan { SourceSpan(start: start, end: Swift.max(end, other.end)) }
}

/// Words the grammar gives a meaning to. Like MySQL's reserved words, they cannot be bare
/// column names (backticks make any name a column: `` `order` ``). Matched case-insensitively.
enum Keyword: String, CaseIterable, Sendable {
    case and, or, not, `in`, `is`, null, between, like, regexp, rlike, starts_with
    case `true`, `false`, order, group, by, asc, desc, limit, offset, having, escape
    case select, from, `where`, delete, update, insert, into, values, set, union, distinct
    case `as`, `case`, when, then, `else`, end, exists, xor, div, mod, interval, binary
    case collate, match, against, join, on, using, `for`, all, any, some

    private static let byLowercasedText: [String: Keyword] = Dictionary(
        uniqueKeysWithValues: allCases.map { ($0.rawValue, $0) })

    init?(word: Substring) {
        guard word.utf8.count <= 11, let keyword = Keyword.byLowercasedText[word.lowercased()] else { return nil }
        self = keyword
    }
}

enum TokenKind: Equatable, Sendable {
    /// A bare name.
    case identifier(String)
    /// A `` `back-quoted` `` name, quotes removed.
    case quotedIdentifier(String)
    case keyword(Keyword)
    /// A '…' or "…" literal, escapes resolved.
    case string(String)
    /// Digits only: an int64 if it fits, else a float (as MySQL and Temporal read it).
    case integer(String)
    /// Digits with a fraction or exponent.
    case float(String)
    /// `=`, `!=`, `<>`, `<`, `<=`, `>`, `>=`, `<=>`, `(`, `)`, `,`, `&&`, `||`, `-`, `+`, `*`,
    /// `/`, `%`, `.`, `;`, `!`, `@`, `:`, `?`, `^`, `|`, `&`, `~`.
    case symbol(String)
    case end
}

struct Token: Sendable {
    let kind: TokenKind
    let span: SourceSpan
}
