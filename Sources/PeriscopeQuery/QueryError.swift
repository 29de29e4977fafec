/// Why a query was refused, where, and in Temporal's words where Temporal has them.
///
/// `description` is what a user sees: `invalid query: <message>`, then for anything but a
/// syntax error (whose message already says where) ` (at position N near 'text')`.
/// Positions count characters from 1 in the query as given. (Temporal's parser counts bytes
/// in `select * from table1 where <query>`, so its numbers are 27 higher and point past
/// the token; ours point at its first character.)
public struct QueryError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Not in the grammar (`malformed SQL query: …`).
        case syntax
        /// In the grammar, but Periscope (and Temporal) do not do it (`operation is not supported: …`).
        case unsupported
        /// Names, types and values that do not fit the schema (`invalid expression: …`).
        case invalidExpression
        /// Past a size or nesting bound.
        case tooLarge
    }

    public let kind: Kind
    /// The reason, without the `invalid query: ` prefix.
    public let message: String
    /// Where, in the query as given; nil when the whole query is at fault.
    public let span: SourceSpan?
    /// 1-based character position of the span's start.
    public let position: Int?
    /// The offending text (at most 40 characters).
    public let near: String?

    init(_ kind: Kind, _ message: String, span: SourceSpan?, in bytes: [UInt8]) {
        self.kind = kind
        self.message = message
        self.span = span
        (position, near) = span.map { Self.location(of: $0, in: bytes) } ?? (nil, nil)
    }

    /// The 1-based character position of the span's start and its text (at most 40 characters).
    private static func location(of span: SourceSpan, in bytes: [UInt8]) -> (Int, String) {
        let start = min(span.start, bytes.count)
        let end = min(max(span.end, start), bytes.count)
        let text = String(decoding: bytes[start..<end], as: UTF8.self)
        return (String(decoding: bytes[..<start], as: UTF8.self).count + 1,
                text.count > 40 ? String(text.prefix(40)) + "…" : text)
    }

    public var description: String {
        guard kind != .syntax, let position, let near else { return "invalid query: " + message }
        return "invalid query: \(message) (at position \(position) near '\(near)')"
    }

    /// The query (as given to `Query.compile`: it is trimmed here the same way, since spans
    /// count from the trimmed text) on one line, and a caret line under the offending text.
    public func caret(under query: String) -> String? {
        let query = query.trimmingSpaces()
        guard let span, !query.contains("\n") else { return nil }
        let bytes = Array(query.utf8)
        let start = min(span.start, bytes.count)
        let end = min(max(span.end, start + 1), bytes.count)
        let column = String(decoding: bytes[..<start], as: UTF8.self).count
        let width = max(1, String(decoding: bytes[start..<max(start, end)], as: UTF8.self).count)
        return query + "\n" + String(repeating: " ", count: column) + String(repeating: "^", count: width)
    }

    // MARK: Constructors in Temporal's wording

    /// `malformed SQL query: syntax error at position N near 'x'`, plus what was expected.
    static func syntax(_ detail: String?, near span: SourceSpan, in bytes: [UInt8]) -> QueryError {
        let (position, near) = location(of: span, in: bytes)
        let at = span.start >= bytes.count ? "at the end of the query" : "at position \(position) near '\(near)'"
        return QueryError(.syntax, "malformed SQL query: syntax error \(at)" + (detail.map { ": " + $0 } ?? ""),
                          span: span, in: bytes)
    }

    static func unsupported(_ what: String, at span: SourceSpan?, in bytes: [UInt8]) -> QueryError {
        QueryError(.unsupported, "operation is not supported: " + what, span: span, in: bytes)
    }

    static func invalid(_ what: String, at span: SourceSpan?, in bytes: [UInt8]) -> QueryError {
        QueryError(.invalidExpression, "invalid expression: " + what, span: span, in: bytes)
    }
}
