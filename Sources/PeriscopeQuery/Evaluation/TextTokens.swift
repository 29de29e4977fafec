/// How Text attributes and Text query values are split into tokens: runs of letters and
/// digits, lowercased. `=` on Text matches when the value shares any token with the query
/// (Temporal's "any token" full-text match), so `'else nothing'` matches "Nothing else
/// matters".
public enum TextTokens {
    public static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        for character in text.lowercased() {
            if character.isLetter || character.isNumber {
                current.append(character)
            } else if !current.isEmpty {
                tokens.append(current)
                current = ""
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }
}
