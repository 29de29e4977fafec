import Foundation
import PeriscopeModel
@testable import PeriscopeQuery
import Testing

/// Temporal's verdicts on real queries (`Conformance/query_corpus.jsonl`): the unified
/// converter's are Periscope's contract; the legacy converters' are reported, not enforced.
@Suite("Query: conformance with Temporal's corpus")
struct ConformanceTests {
    static let contract = CorpusEntry.all.filter(\.isContract)
    static let evidence = CorpusEntry.all.filter {
        ($0.appliesTo.hasPrefix("legacy-") || $0.appliesTo == "grammar-legacy-es") && !$0.context.hasPrefix("chasm")
    }

    @Test func theCorpusIsThere() {
        #expect(CorpusEntry.all.count >= 200)
        #expect(Self.contract.count >= 70)
    }

    @Test(arguments: contract)
    func contractVerdict(_ entry: CorpusEntry) {
        for context in entry.contexts {
            let error = compileError(entry.query, context, schema: schema(entry.fixture))
            // Periscope sorts on every store: ORDER BY that Temporal's SQL stores refused
            // for that reason alone is accepted.
            let expectValid = entry.valid || (entry.expectedError?.contains("'ORDER BY' clause") ?? false)
            if expectValid {
                #expect(error == nil, "Temporal accepts \(entry) in \(context); Periscope says \(error!)")
            } else if let error {
                if let expected = entry.expectedError {
                    #expect(error.description.contains(expected), "\(entry): want '\(expected)', got '\(error)'")
                }
                #expect(error.description.hasPrefix("invalid query: "))
            } else {
                Issue.record("Temporal rejects \(entry) in \(context) (\(entry.expectedError ?? entry.note)); Periscope accepts it")
            }
        }
    }

    /// The legacy converters' verdicts, for information: where Periscope differs, and why
    /// that is expected (the unified converter, or Periscope's extensions).
    @Test func legacyVerdictsAreReported() {
        var differing: [String] = []
        for entry in Self.evidence {
            let context: QueryContext = entry.context == "count" ? .count : .list
            let error = compileError(entry.query, context, schema: schema(entry.fixture))
            if (error == nil) != entry.valid {
                differing.append("  \(entry): Temporal \(entry.valid ? "accepts" : "rejects"); Periscope "
                    + (error.map { "rejects: \($0)" } ?? "accepts"))
            }
        }
        print("Legacy and grammar entries where Periscope's verdict differs (\(differing.count) of \(Self.evidence.count)); "
            + "information only:\n" + differing.joined(separator: "\n"))
    }

    /// The fixture table compiled into PeriscopeQuery matches the corpus's fixtures.json.
    @Test func fixturesMatchTheJSON() throws {
        let data = try Data(contentsOf: conformanceDirectory.appendingPathComponent("fixtures.json"))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        for (name, value) in json where !name.hasPrefix("_") {
            let attributes = (value as! [String: String]).mapValues { SearchAttributeType(name: $0) }
            #expect(TemporalFixtures.attributes[name] == attributes, "fixture \(name)")
        }
        #expect(TemporalFixtures.attributes.count == json.keys.filter { !$0.hasPrefix("_") }.count)
    }
}
