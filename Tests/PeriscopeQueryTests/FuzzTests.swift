import Foundation
@testable import PeriscopeQuery
import Testing

/// Random bytes and mutated corpus queries: never a crash, never a hang, always a verdict.
/// `PERISCOPE_FUZZ_CASES` raises the count (`scripts/fuzz-query.sh` runs a long one).
@Suite("Query: fuzzing")
struct FuzzTests {
    static let cases = ProcessInfo.processInfo.environment["PERISCOPE_FUZZ_CASES"].flatMap(Int.init) ?? 3_000
    static let seed = ProcessInfo.processInfo.environment["PERISCOPE_FUZZ_SEED"].flatMap(UInt64.init) ?? 20261125

    static let alphabet: [String] = ["(", ")", "'", "\"", "`", ",", "=", "!=", "<", ">", "-", ".", " ", "\\", "AND", "OR",
                                     "NOT", "IN", "IS", "NULL", "BETWEEN", "STARTS_WITH", "ORDER BY", "GROUP BY", "LIMIT",
                                     "1", "1.5e9", "WorkflowId", "Int01", "Text01", "KeywordList01", "ExecutionStatus",
                                     "'Running'", "\u{0}", "é", "😀", "\n", "TRUE"]

    @Test func randomBytesAlwaysGetAVerdict() {
        var random = SeededRandom(seed: Self.seed)
        for _ in 0..<Self.cases {
            let bytes = (0..<Int.random(in: 0..<80, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            verdict(String(decoding: bytes, as: UTF8.self))
        }
    }

    @Test func mutatedCorpusQueriesAlwaysGetAVerdict() {
        var random = SeededRandom(seed: Self.seed &+ 1)
        let corpus = CorpusEntry.all.map(\.query).filter { !$0.isEmpty }
        for _ in 0..<Self.cases {
            var text = Array(corpus[Int.random(in: 0..<corpus.count, using: &random)])
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let position = Int.random(in: 0...text.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0 where !text.isEmpty:
                    text.remove(at: min(position, text.count - 1))
                case 1:
                    text.insert(contentsOf: Self.alphabet[Int.random(in: 0..<Self.alphabet.count, using: &random)], at: position)
                default:
                    let end = min(text.count, position + Int.random(in: 0...10, using: &random))
                    text.insert(contentsOf: text[position..<end], at: position)
                }
            }
            verdict(String(text))
        }
    }

    /// Compiles; when valid, plans, prints, recompiles the print and evaluates.
    private func verdict(_ text: String) {
        for context in [QueryContext.list, .count] {
            guard let query = try? compile(text, context) else { continue }
            let plan = query.plan
            let again = try? compile(plan.description, context).plan
            #expect(again == plan, "fuzz \(text.debugDescription): printed \(plan.description.debugDescription)")
        }
    }
}
