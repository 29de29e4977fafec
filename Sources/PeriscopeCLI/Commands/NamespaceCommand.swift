import ArgumentParser
import PeriscopeClient
import PeriscopeModel

struct NamespaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "namespace",
        abstract: "Create, describe, update and list namespaces.",
        subcommands: [Create.self, Describe.self, Update.self, List.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a namespace (exit 4 if it exists).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The namespace's name.") var name: String
        @Option(help: "How long closed executions are kept: 72h, 30d, 3600s.") var retention: String = "72h"
        @Option(help: "The namespace's id (generated when omitted).") var id: String = ""
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard let duration = parseDuration(retention) else { throw ValidationError("--retention '\(retention)' is not like 72h, 30d or 3600s") }
            try await reportingFailures {
                let created = try await client.withClient { try await $0.createNamespace(name, retention: duration, id: id) }
                try show(created, json: json)
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a namespace (exit 3 if it does not exist).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The namespace's name.") var name: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reportingFailures {
                try show(try await client.withClient { try await $0.describeNamespace(name) }, json: json)
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a namespace's retention.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The namespace's name.") var name: String
        @Option(help: "How long closed executions are kept: 72h, 30d, 3600s.") var retention: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard let duration = parseDuration(retention) else { throw ValidationError("--retention '\(retention)' is not like 72h, 30d or 3600s") }
            try await reportingFailures {
                try show(try await client.withClient { try await $0.setRetention(namespace: name, duration) }, json: json)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the namespaces.")
        @OptionGroup var client: ClientOptions
        @Flag(help: "Print JSON, one namespace per line.") var json = false

        func run() async throws {
            try await reportingFailures {
                let namespaces = try await client.withClient { try await $0.namespaces() }
                if json {
                    for namespace in namespaces { try printJSON(namespace) }
                } else {
                    print(Table(header: ["NAME", "ID", "RETENTION", "CUSTOM ATTRIBUTES"], rows: namespaces.map {
                        [$0.name, $0.id, "\($0.retention.seconds / 3_600)h", "\($0.customSearchAttributes.count)"]
                    }).rendered)
                }
            }
        }
    }
}

private func show(_ namespace: Namespace, json: Bool) throws {
    if json { return try printJSON(namespace) }
    print("name:       \(namespace.name)")
    print("id:         \(namespace.id)")
    print("retention:  \(namespace.retention.seconds) s (\(namespace.retention.seconds / 3_600) h)")
    print("region:     \(namespace.homeRegion)")
    let custom = namespace.customSearchAttributes.sorted { $0.key < $1.key }
    print("custom search attributes: \(custom.isEmpty ? "none" : "")")
    for (name, type) in custom { print("  \(name)  \(typeName(type))") }
}

/// `Keyword`, `Int`, … as Temporal names them.
func typeName(_ type: IndexedValueType) -> String {
    SearchAttributeType(rawValue: type.rawValue)?.name ?? "unknown(\(type.rawValue))"
}

struct SearchAttributeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search-attribute",
        abstract: "Add, remove and list a namespace's custom search attributes.",
        subcommands: [Add.self, Remove.self, List.self]
    )

    static let types: [String: IndexedValueType] = [
        "text": .text, "keyword": .keyword, "int": .int, "double": .double, "bool": .bool, "datetime": .datetime,
        "keywordlist": .keywordList,
    ]

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add custom attributes: NAME=TYPE … (Text, Keyword, Int, Double, Bool, Datetime, KeywordList).")
        @OptionGroup var client: ClientOptions
        @Option(help: "The namespace.") var namespace = "default"
        @Argument(help: "NAME=TYPE, e.g. CustomerId=Keyword Amount=Double.") var attributes: [String]

        func run() async throws {
            var parsed: [String: IndexedValueType] = [:]
            for pair in attributes {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let type = SearchAttributeCommand.types[parts[1].lowercased()] else {
                    throw ValidationError("'\(pair)' is not NAME=TYPE with TYPE one of Text, Keyword, Int, Double, Bool, Datetime, KeywordList")
                }
                parsed[parts[0]] = type
            }
            try await reportingFailures {
                let response = try await client.withClient { try await $0.addSearchAttributes(namespace: namespace, parsed) }
                print("custom search attributes of \(namespace): \(response.custom.keys.sorted().joined(separator: ", "))")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove custom attributes by name.")
        @OptionGroup var client: ClientOptions
        @Option(help: "The namespace.") var namespace = "default"
        @Argument(help: "Attribute names.") var names: [String]

        func run() async throws {
            try await reportingFailures {
                let response = try await client.withClient { try await $0.removeSearchAttributes(namespace: namespace, names) }
                print("custom search attributes of \(namespace): \(response.custom.keys.sorted().joined(separator: ", "))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the attributes a namespace's queries may use.")
        @OptionGroup var client: ClientOptions
        @Option(help: "The namespace.") var namespace = "default"
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reportingFailures {
                let response = try await client.withClient { try await $0.searchAttributes(namespace: namespace) }
                if json { return try printJSON(response) }
                let rows = response.custom.sorted { $0.key < $1.key }.map { [$0.key, typeName($0.value), "custom"] }
                    + response.system.sorted { $0.key < $1.key }.map { [$0.key, typeName($0.value), "system"] }
                print(Table(header: ["NAME", "TYPE", "KIND"], rows: rows).rendered)
            }
        }
    }
}
