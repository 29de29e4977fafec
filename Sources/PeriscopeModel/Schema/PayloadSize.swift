/// The size of a search-attribute value as the JSON payload Temporal builds for it
/// (`sadefs/encode_value.go`), which is what Temporal's size limits measure.
///
/// Strings count Go's `json.Marshal` escapes (it escapes `<`, `>`, `&` and U+2028/U+2029 as
/// `\uXXXX`); doubles count Swift's shortest representation, which is never longer than Go's
/// by more than the trailing `.0`, and no double approaches the limits.
enum PayloadSize {
    static func of(_ value: SearchAttributeValue) -> Int {
        switch value {
        case .keyword(let string), .text(let string): quoted(string)
        case .keywordList(let strings): 2 + strings.reduce(0) { $0 + quoted($1) } + max(0, strings.count - 1)
        case .int(let number): String(number).utf8.count
        case .double(let number): String(number).utf8.count
        case .bool(let flag): flag ? 4 : 5
        case .datetime(let time): 2 + time.rfc3339.utf8.count
        }
    }

    static func quoted(_ string: String) -> Int {
        var size = 2
        for scalar in string.unicodeScalars {
            switch scalar.value {
            case 0x22, 0x5C, 0x0A, 0x0D, 0x09, 0x08, 0x0C: size += 2  // \" \\ \n \r \t \b \f
            case 0x00..<0x20, 0x3C, 0x3E, 0x26, 0x2028, 0x2029: size += 6  // \u00XX
            default: size += scalar.utf8.count
            }
        }
        return size
    }
}
