import Foundation
import ArgumentParser
import PeriscopeClient
import PeriscopeModel

struct NamespaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "namespace",
        abstract: "Create, describe, update, list and fail over namespaces.",
        subcommands: [Create.self, Describe.self, Update.self, List.self, Failover.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a namespace (exit 4 if it exists).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The namespace's name.") var name: String
        @Option(help: "How long closed executions are kept: 72h, 30d, 3600s.") var retention: String = "72h"
        @Option(help: "The namespace's id (generated when omitted).") var id: String = ""
        @Option(help: "The region that takes its writes (default: the answering node's region).")
        var homeRegion: String = ""
        @Option(help: "Every region holding it, comma-separated, the home included (default: the home only).")
        var regions: String = ""
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard let duration = parseDuration(retention) else { throw ValidationError("--retention '\(retention)' is not like 72h, 30d or 3600s") }
            let regionList = try parseRegionList(regions, option: "--regions", allowEmpty: true)
            try await reportingFailures {
                let created = try await client.withClient {
                    try await $0.createNamespace(name, retention: duration, id: id, homeRegion: homeRegion, regions: regionList)
                }
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
        static let configuration = CommandConfiguration(abstract: "Change a namespace's retention or the regions holding it.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The namespace's name.") var name: String
        @Option(help: "How long closed executions are kept: 72h, 30d, 3600s.") var retention: String?
        @Option(help: "Every region holding it, comma-separated; must include the home.") var regions: String?
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            if retention == nil && regions == nil { throw ValidationError("nothing to change: give --retention or --regions") }
        }

        func run() async throws {
            var duration: Duration?
            if let retention {
                guard let parsed = parseDuration(retention) else { throw ValidationError("--retention '\(retention)' is not like 72h, 30d or 3600s") }
                duration = parsed
            }
            let regionList = try regions.map { try parseRegionList($0, option: "--regions", allowEmpty: false) }
            try await reportingFailures {
                let updated = try await client.withClient { client in
                    var namespace: Namespace?
                    if let duration { namespace = try await client.setRetention(namespace: name, duration) }
                    if let regionList { namespace = try await client.setRegions(namespace: name, regionList) }
                    return namespace!
                }
                try show(updated, json: json)
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
                    print(Table(header: ["NAME", "ID", "RETENTION", "HOME", "REGIONS", "CUSTOM ATTRIBUTES"], rows: namespaces.map {
                        [$0.name, $0.id, "\($0.retention.seconds / 3_600)h", $0.homeRegion,
                         $0.regions.joined(separator: ","), "\($0.customSearchAttributes.count)"]
                    }).rendered)
                }
            }
        }
    }

    struct Failover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a namespace's home to another of its regions.",
            discussion: """
                Planned (default): the old home stops taking writes, replication drains to the new \
                home, then the new home takes writes; nothing acknowledged is lost. Ask any node of \
                the deployment. --force, for a home region that is down: the new home takes writes at \
                once; the answer says how many acknowledged entries may be missing until the old home \
                returns and is reconciled. --cancel abandons a planned failover still draining.
                """)
        @OptionGroup var client: ClientOptions
        @Option(help: "The namespace.") var namespace: String
        @Option(help: "The region to become its home.") var toRegion: String = ""
        @Flag(help: "Do not wait for the old home: it is down.") var force = false
        @Flag(help: "Abandon a planned failover under way.") var cancel = false
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            if force && cancel { throw ValidationError("--force and --cancel exclude each other") }
            if !cancel && toRegion.isEmpty { throw ValidationError("--to-region is required (unless --cancel)") }
        }

        func run() async throws {
            try await reportingFailures {
                let response = try await client.withClient {
                    try await $0.failover(namespace: namespace, to: toRegion, force: force, cancel: cancel)
                }
                if json { return try printJSON(response) }
                let placement = response.placement
                print("namespace:        \(placement.namespace)")
                print("home region:      \(placement.homeRegion)")
                print("regions:          \(placement.regions.joined(separator: ","))")
                print("failover version: \(placement.failoverVersion)")
                if !placement.handingOverTo.isEmpty { print("handing over to:  \(placement.handingOverTo)") }
                if force {
                    if response.missingUnknown {
                        print("possibly missing: unknown (a shard's replication from the old home never reported)")
                    } else {
                        print("possibly missing: at most \(response.possiblyMissingEntries) acknowledged entries, "
                            + "the oldest \(String(format: "%.1f", response.missingLagSeconds)) s old, until the old home returns")
                    }
                }
            }
        }
    }
}

/// `A,B,C` as region names, refusing empty items.
private func parseRegionList(_ text: String, option: String, allowEmpty: Bool) throws -> [String] {
    if text.isEmpty {
        if allowEmpty { return [] }
        throw ValidationError("\(option) is empty: give region names like A,B,C")
    }
    let names = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    guard !names.contains(where: \.isEmpty) else { throw ValidationError("\(option) '\(text)' has an empty region name") }
    return names
}

private func show(_ namespace: Namespace, json: Bool) throws {
    if json { return try printJSON(namespace) }
    print("name:             \(namespace.name)")
    print("id:               \(namespace.id)")
    print("retention:        \(namespace.retention.seconds) s (\(namespace.retention.seconds / 3_600) h)")
    print("home region:      \(namespace.homeRegion)")
    print("regions:          \(namespace.regions.joined(separator: ","))")
    print("failover version: \(namespace.failoverVersion)")
    if !namespace.handingOverTo.isEmpty { print("handing over to:  \(namespace.handingOverTo)") }
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
