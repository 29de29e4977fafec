import Foundation

/// The List Filter queries shadow reads run: a deployment's own (one per line) or a corpus in
/// the JSON-lines form of Temporal's conformance facts (`{"query": ..., "valid": ...,
/// "context": "any|list|count"}`).
public struct QueryCorpus: Sendable {
    public enum Context: String, Sendable, Codable { case list, count }

    public struct Entry: Sendable, Equatable {
        public var query: String
        public var context: Context
        /// Where it came from: file and line.
        public var origin: String
    }

    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    /// Lines of a text file: a query per line, `count:` before one to run as a count, `#`
    /// starting a comment, blank lines skipped.
    public static func lines(_ text: String, origin: String) -> QueryCorpus {
        var entries: [Entry] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var query = line.trimmingCharacters(in: .whitespaces)
            guard !query.hasPrefix("#"), !(query.isEmpty && line.isEmpty) else { continue }
            var context = Context.list
            if query.hasPrefix("count:") {
                context = .count
                query = String(query.dropFirst("count:".count)).trimmingCharacters(in: .whitespaces)
            }
            if query == "<empty>" { query = "" }
            guard !query.isEmpty || line.contains("<empty>") else { continue }
            entries.append(Entry(query: query, context: context, origin: "\(origin):\(number + 1)"))
        }
        return QueryCorpus(entries: entries)
    }

    /// A JSON-lines corpus: the entries marked valid, in a list or count context. Temporal's
    /// test aliases (`AliasForKeyword01`) are replaced by their fields (`Keyword01`), which is
    /// what a migrated namespace registers.
    public static func jsonLines(_ text: String, origin: String) throws -> QueryCorpus {
        struct Line: Decodable {
            var query: String
            var valid: Bool
            var context: String?
        }
        var entries: [Entry] = []
        for (number, line) in text.split(separator: "\n").enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let decoded: Line
            do {
                decoded = try JSONDecoder().decode(Line.self, from: Data(line.utf8))
            } catch {
                throw MigrationError.invalid("\(origin):\(number + 1) is not a corpus entry ({\"query\": ..., \"valid\": ...}): \(error)")
            }
            guard decoded.valid else { continue }
            let context: Context
            switch decoded.context ?? "any" {
            case "any", "list": context = .list
            case "count": context = .count
            default: continue
            }
            let query = decoded.query.replacingOccurrences(of: "AliasFor", with: "")
            entries.append(Entry(query: query, context: context, origin: "\(origin):\(number + 1)"))
        }
        return QueryCorpus(entries: entries)
    }

    /// The corpus in `path`: JSON lines if it ends in `.jsonl`, else a query per line.
    public static func load(_ path: String) throws -> QueryCorpus {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw MigrationError.invalid("cannot read the query file \(path)")
        }
        return path.hasSuffix(".jsonl") ? try jsonLines(text, origin: path) : lines(text, origin: path)
    }
}
