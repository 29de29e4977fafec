import ArgumentParser
import Foundation
import PeriscopeModel
import PeriscopeQuery

struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run and check List Filter queries (Temporal's visibility query language).",
        subcommands: [QueryListCommand.self, QueryCountCommand.self, QueryExplainCommand.self, QueryCheckCommand.self]
    )
}

/// Parses and validates a query without a node: prints its normalized form, or the error
/// with a caret under the offending text. Exit status 0 when valid, 2 when not.
struct QueryCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a query against a namespace schema and print its normalized form.",
        discussion: """
            Without --fixture or --schema the namespace has only Temporal's system and predefined \
            attributes. Exit status: 0 valid, 2 invalid query, 64 bad options or schema file.
            """
    )

    @Argument(help: "The query, e.g. \"WorkflowType = 'order' AND StartTime > '2026-01-01T00:00:00Z'\".")
    var query: String

    @Flag(help: "Check it as a count (GROUP BY allowed) instead of a list.")
    var count = false

    @Option(help: "Register the custom attributes of one of Temporal's test fixtures (\(TemporalFixtures.attributes.keys.sorted().joined(separator: ", "))).")
    var fixture: String?

    @Option(help: "A JSON file of custom attributes: {\"CustomerId\": \"Keyword\", \"Amount\": \"Double\", ...}.")
    var schema: String?

    func validate() throws {
        if fixture != nil && schema != nil { throw ValidationError("use --fixture or --schema, not both") }
    }

    func run() throws {
        let namespace = try loadSchema()
        do {
            let compiled = try Query.compile(query, schema: namespace, context: count ? .count : .list)
            print(compiled.plan.description)
        } catch {
            var message = error.description
            if let caret = error.caret(under: query) { message += "\n" + caret }
            FileHandle.standardError.write(Data((message + "\n").utf8))
            throw ExitCode(2)
        }
    }

    private func loadSchema() throws -> NamespaceSchema {
        if let fixture {
            guard let schema = try TemporalFixtures.schema(fixture) else {
                throw ValidationError("unknown fixture '\(fixture)'; known: \(TemporalFixtures.attributes.keys.sorted().joined(separator: ", "))")
            }
            return schema
        }
        guard let schema else { return NamespaceSchema() }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: schema))
        } catch {
            throw ValidationError("cannot read the schema file \(schema): \(error.localizedDescription)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let entries = object as? [String: Any] else {
            throw ValidationError("the schema file \(schema) is not a JSON object of attribute names to types")
        }
        var attributes: [String: SearchAttributeType] = [:]
        for (name, value) in entries {
            let typeName = value as? String ?? "\(value)"
            guard let type = SearchAttributeType(name: typeName) else {
                throw ValidationError("\(schema): attribute \(name) has type '\(typeName)'; use one of "
                    + SearchAttributeType.allCases.map(\.name).joined(separator: ", "))
            }
            attributes[name] = type
        }
        do {
            return try NamespaceSchema(customAttributes: attributes)
        } catch {
            throw ValidationError("\(schema): \(error)")
        }
    }
}
