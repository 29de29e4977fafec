/// Splits a query into tokens: MySQL's lexical rules as Temporal's sqlparser applies them.
/// Case-insensitive keywords; '…' and "…" strings with backslash escapes and doubled
/// quotes; `` `…` `` names; integers and floats. Works on UTF-8 bytes; any non-ASCII
/// byte may appear in names and strings.
struct Lexer {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    /// All tokens, ending with `.end`.
    static func tokenize(_ text: String) throws(QueryError) -> [Token] {
        var lexer = Lexer(text)
        var tokens: [Token] = []
        while true {
            let token = try lexer.next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    mutating func next() throws(QueryError) -> Token {
        while offset < bytes.count, Self.isSpace(bytes[offset]) { offset += 1 }
        let start = offset
        guard offset < bytes.count else { return Token(kind: .end, span: SourceSpan(start: start, end: start)) }
        let byte = bytes[offset]
        if Self.isNameStart(byte) {
            while offset < bytes.count, Self.isNamePart(bytes[offset]) { offset += 1 }
            let word = String(decoding: bytes[start..<offset], as: UTF8.self)
            let kind: TokenKind = Keyword(word: Substring(word)).map { .keyword($0) } ?? .identifier(word)
            return Token(kind: kind, span: SourceSpan(start: start, end: offset))
        }
        if Self.isDigit(byte) || (byte == UInt8(ascii: ".") && offset + 1 < bytes.count && Self.isDigit(bytes[offset + 1])) {
            return try number(from: start)
        }
        switch byte {
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            return try quoted(from: start, quote: byte) { .string($0) }
        case UInt8(ascii: "`"):
            let token = try quoted(from: start, quote: byte, escapes: false) { .quotedIdentifier($0) }
            if case .quotedIdentifier("") = token.kind {
                throw QueryError.syntax("a `quoted` name cannot be empty", near: token.span, in: bytes)
            }
            return token
        default:
            return symbol(from: start)
        }
    }

    // MARK: Pieces

    private mutating func number(from start: Int) throws(QueryError) -> Token {
        var isFloat = false
        while offset < bytes.count, Self.isDigit(bytes[offset]) { offset += 1 }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            isFloat = true
            offset += 1
            while offset < bytes.count, Self.isDigit(bytes[offset]) { offset += 1 }
        }
        if offset < bytes.count, bytes[offset] | 0x20 == UInt8(ascii: "e") {
            var look = offset + 1
            if look < bytes.count, bytes[look] == UInt8(ascii: "+") || bytes[look] == UInt8(ascii: "-") { look += 1 }
            if look < bytes.count, Self.isDigit(bytes[look]) {
                isFloat = true
                offset = look
                while offset < bytes.count, Self.isDigit(bytes[offset]) { offset += 1 }
            }
        }
        let span = SourceSpan(start: start, end: offset)
        // `123abc` is neither a number nor a name.
        if offset < bytes.count, Self.isNamePart(bytes[offset]) {
            while offset < bytes.count, Self.isNamePart(bytes[offset]) { offset += 1 }
            throw QueryError.syntax(nil, near: SourceSpan(start: start, end: offset), in: bytes)
        }
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        return Token(kind: isFloat ? .float(text) : .integer(text), span: span)
    }

    /// A quoted run. Inside, the quote doubled stands for itself; with `escapes`, a backslash
    /// escapes the next byte as MySQL does (`\n`, `\t`, `\0`, `\b`, `\r`, `\Z`; `\%` and `\_`
    /// keep their backslash; anything else stands for itself).
    private mutating func quoted(from start: Int, quote: UInt8, escapes: Bool = true,
                                 _ make: (String) -> TokenKind) throws(QueryError) -> Token {
        offset += 1
        var value: [UInt8] = []
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == quote {
                if offset + 1 < bytes.count, bytes[offset + 1] == quote {
                    value.append(quote)
                    offset += 2
                    continue
                }
                offset += 1
                return Token(kind: make(String(decoding: value, as: UTF8.self)), span: SourceSpan(start: start, end: offset))
            }
            if escapes, byte == UInt8(ascii: "\\"), offset + 1 < bytes.count {
                let escaped = bytes[offset + 1]
                switch escaped {
                case UInt8(ascii: "n"): value.append(0x0A)
                case UInt8(ascii: "t"): value.append(0x09)
                case UInt8(ascii: "r"): value.append(0x0D)
                case UInt8(ascii: "b"): value.append(0x08)
                case UInt8(ascii: "0"): value.append(0x00)
                case UInt8(ascii: "Z"): value.append(0x1A)
                case UInt8(ascii: "%"), UInt8(ascii: "_"): value += [UInt8(ascii: "\\"), escaped]
                default: value.append(escaped)
                }
                offset += 2
                continue
            }
            value.append(byte)
            offset += 1
        }
        let what = quote == UInt8(ascii: "`") ? "quoted name" : "string"
        throw QueryError.syntax("the \(what) starting here is never closed", near: SourceSpan(start: start, end: bytes.count), in: bytes)
    }

    private static let twoByteSymbols: Set<String> = ["!=", "<>", "<=", ">=", "&&", "||", "<<", ">>"]

    private mutating func symbol(from start: Int) -> Token {
        if offset + 3 <= bytes.count,
           bytes[offset] == UInt8(ascii: "<"), bytes[offset + 1] == UInt8(ascii: "="), bytes[offset + 2] == UInt8(ascii: ">") {
            offset += 3
            return Token(kind: .symbol("<=>"), span: SourceSpan(start: start, end: offset))
        }
        if offset + 2 <= bytes.count {
            let pair = String(decoding: bytes[offset..<(offset + 2)], as: UTF8.self)
            if Self.twoByteSymbols.contains(pair) {
                offset += 2
                return Token(kind: .symbol(pair), span: SourceSpan(start: start, end: offset))
            }
        }
        // One character, whole (a stray non-ASCII byte is a name start, so this is ASCII).
        offset += 1
        return Token(kind: .symbol(String(decoding: bytes[start..<offset], as: UTF8.self)), span: SourceSpan(start: start, end: offset))
    }

    // MARK: Character classes

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
    static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
    static func isNameStart(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: "$") || byte >= 0x80
    }
    static func isNamePart(_ byte: UInt8) -> Bool { isNameStart(byte) || isDigit(byte) }
}
