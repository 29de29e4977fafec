import Foundation
@_exported import PeriscopeTestSupport
import PeriscopeModel
@testable import PeriscopeQuery

/// The files copied from Temporal's facts (`Conformance/`), next to this source file.
let conformanceDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Conformance")

/// One line of `query_corpus.jsonl`.
struct CorpusEntry: Sendable, CustomStringConvertible {
    let line: Int
    let query: String
    let valid: Bool
    let context: String
    let appliesTo: String
    let fixture: String
    let expectedError: String?
    let note: String

    var description: String { "#\(line) [\(appliesTo), \(context), \(fixture)] \(query.debugDescription)" }

    /// The verdict Temporal's unified converter gives, which is Periscope's contract.
    var isContract: Bool { ["unified", "all", "sql-all"].contains(appliesTo) && !context.hasPrefix("chasm") }

    static let all: [CorpusEntry] = {
        let text = try! String(contentsOf: conformanceDirectory.appendingPathComponent("query_corpus.jsonl"), encoding: .utf8)
        return text.split(separator: "\n").enumerated().compactMap { index, line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return CorpusEntry(line: index + 1, query: object["query"] as! String, valid: object["valid"] as! Bool,
                               context: object["context"] as? String ?? "any", appliesTo: object["applies_to"] as? String ?? "",
                               fixture: object["fixture"] as? String ?? "none", expectedError: object["expected_error"] as? String,
                               note: object["note"] as? String ?? "")
        }
    }()

    /// The contexts to check the entry in: both for `any`.
    var contexts: [QueryContext] {
        switch context {
        case "list": [.list]
        case "count": [.count]
        default: [.list, .count]
        }
    }
}

/// A schema with a fixture's attributes.
func schema(_ fixture: String) -> NamespaceSchema {
    try! TemporalFixtures.schema(fixture)!
}

/// The sql-test fixture: every type, several attributes each.
let sqlTestSchema = schema("sql-test")

func compile(_ text: String, _ context: QueryContext = .list, schema: NamespaceSchema = sqlTestSchema) throws(QueryError) -> Query {
    try Query.compile(text, schema: schema, context: context)
}

func compileError(_ text: String, _ context: QueryContext = .list, schema: NamespaceSchema = sqlTestSchema) -> QueryError? {
    do {
        _ = try Query.compile(text, schema: schema, context: context)
        return nil
    } catch {
        return error
    }
}
