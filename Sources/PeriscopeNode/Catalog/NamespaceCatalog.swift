import Foundation
import PeriscopeModel
import PeriscopeShard
import PeriscopeStorage
import Synchronization

/// The namespaces of a region: the state machine of the catalog's Raft group, kept in a
/// RocksDB of its own (one key per namespace, plus the applied index, written atomically)
/// and mirrored in memory for the request path, which reads it on every call.
public final class NamespaceCatalog: ReplicatedStateMachine {
    public typealias Outcome = CatalogOutcome

    private let database: Database
    private struct State {
        var applied: UInt64
        var byName: [String: NamespaceEntry]
    }
    private let state: Mutex<State>

    private static let appliedKey = Array("applied-index".utf8)
    private static let namespacePrefix = Array("namespace/".utf8)

    /// Opens (or creates) the catalog in `path`. **Blocks.**
    public static func open(at path: String, environment: StorageEnvironment = .shared) throws -> NamespaceCatalog {
        var options = DatabaseOptions(environment: environment)
        options.createIfMissing = true
        let database = try Database.open(at: path, options: options)
        do {
            let applied = try database.appliedIndex(under: appliedKey)
            return NamespaceCatalog(database: database, state: State(applied: applied, byName: try storedNamespaces(in: database)))
        } catch {
            try? database.close()
            throw ShardError("the namespace catalog in \(path) is damaged: \(error)")
        }
    }

    private static func storedNamespaces(in database: Database) throws -> [String: NamespaceEntry] {
        let entries = try database.scan(range: .prefix(namespacePrefix)) { entries in
            try entries.map { try JSONDecoder().decode(NamespaceEntry.self, from: Data($0.value)) }
        }
        return Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0) })
    }

    private init(database: Database, state: State) {
        self.database = database
        self.state = Mutex(state)
    }

    public func close() throws { try database.close() }

    // MARK: Reads (any thread, from memory)

    public func namespace(named name: String) -> NamespaceEntry? { state.withLock { $0.byName[name] } }

    /// Every namespace, by name.
    public var namespaces: [NamespaceEntry] { state.withLock { $0.byName.values.sorted { $0.name < $1.name } } }

    // MARK: ReplicatedStateMachine

    public var appliedIndex: UInt64 { state.withLock { $0.applied } }

    public func apply(_ entries: [CommittedEntry]) throws -> [UInt64: CatalogOutcome] {
        try state.withLock { state in
            var outcomes: [UInt64: CatalogOutcome] = [:]
            var byName = state.byName
            var changed: Set<String> = []
            var applied = state.applied
            for entry in entries where entry.index > applied {
                applied = entry.index
                guard !entry.data.isEmpty else { continue }
                let outcome: CatalogOutcome
                do {
                    let command = try CatalogCommand.decode(entry.data)
                    let after = try Self.apply(command, to: byName)
                    byName[after.name] = after
                    changed.insert(after.name)
                    outcome = .done(after)
                } catch let refusal as CatalogRefusal {
                    outcome = .refused(refusal)
                } catch {
                    outcome = .refused(CatalogRefusal(.invalidArgument, "undecodable catalog command: \(error)"))
                }
                outcomes[entry.index] = outcome
            }
            guard applied > state.applied else { return outcomes }
            let batch = WriteBatch()
            for name in changed {
                try batch.put(Self.namespacePrefix + Array(name.utf8), Array(try JSONEncoder().encode(byName[name]!)),
                              in: database.defaultColumnFamily)
            }
            try batch.put(Self.appliedKey, bigEndian(applied), in: database.defaultColumnFamily)
            // Not fsync'd, like a shard's apply: the Raft log is, and replays after a crash.
            try database.write(batch, options: .buffered)
            state.applied = applied
            state.byName = byName
            return outcomes
        }
    }

    public func syncApplied() throws -> UInt64 {
        let applied = appliedIndex
        try database.syncWriteAheadLog()
        return applied
    }

    public func takeSnapshot() throws -> MachineSnapshot { try database.machineSnapshot(appliedKey: Self.appliedKey) }

    public func installSnapshot(files: [ExportedFile], in directory: String, at index: UInt64) throws {
        try state.withLock { state in
            try database.installMachineSnapshot(files: files, in: directory, appliedKey: Self.appliedKey, at: index)
            state.applied = index
            state.byName = try Self.storedNamespaces(in: database)
        }
    }

    /// The namespace after `command`, or why not. Pure: the same on every replica.
    static func apply(_ command: CatalogCommand, to byName: [String: NamespaceEntry]) throws(CatalogRefusal) -> NamespaceEntry {
        func existing(_ name: String) throws(CatalogRefusal) -> NamespaceEntry {
            guard let entry = byName[name] else { throw CatalogRefusal(.notFound, "namespace \(name) does not exist") }
            return entry
        }
        switch command {
        case .create(let entry):
            try checkNew(entry)
            guard byName[entry.name] == nil else { throw CatalogRefusal(.alreadyExists, "namespace \(entry.name) already exists") }
            guard !byName.values.contains(where: { $0.id == entry.id }) else {
                throw CatalogRefusal(.alreadyExists, "namespace id \(entry.id) is already used by another namespace")
            }
            var created = entry
            created.customAttributes = [:]
            return try withAttributes(entry.customAttributes, added: true, to: created)
        case .setRetention(let name, let seconds):
            try checkRetention(seconds)
            var entry = try existing(name)
            entry.retentionSeconds = seconds
            return entry
        case .addAttributes(let name, let attributes):
            return try withAttributes(attributes, added: true, to: try existing(name))
        case .removeAttributes(let name, let names):
            return try withAttributes(Dictionary(names.map { ($0, 0) }, uniquingKeysWith: { a, _ in a }), added: false,
                                      to: try existing(name))
        }
    }

    /// What a new namespace must be whatever the catalog holds: a valid name, an id and home
    /// region of 1 ... 255 bytes, a retention in range. The node checks it before proposing
    /// (nothing is proposed for bad input); apply checks it again (replicas must agree).
    static func checkNew(_ entry: NamespaceEntry) throws(CatalogRefusal) {
        if let problem = NamespaceName.problem(with: entry.name) { throw CatalogRefusal(.invalidArgument, problem) }
        for (field, value) in [("id", entry.id), ("home_region", entry.homeRegion)]
        where value.isEmpty || value.utf8.count > NamespaceName.bytesMax {
            throw CatalogRefusal(.invalidArgument, "namespace \(field) of \(value.utf8.count) bytes is outside 1 ... \(NamespaceName.bytesMax)")
        }
        try checkRetention(entry.retentionSeconds)
    }

    private static func checkRetention(_ seconds: Int64) throws(CatalogRefusal) {
        guard seconds >= 1, seconds <= retentionSecondsMax else {
            throw CatalogRefusal(.invalidArgument, "retention of \(seconds) s is outside 1 s ... \(retentionSecondsMax / 86_400) days")
        }
    }

    /// Ten years: longer keeps closed partitions forever for practical purposes.
    static let retentionSecondsMax: Int64 = 10 * 366 * 86_400

    private static func withAttributes(_ attributes: [String: Int], added: Bool, to entry: NamespaceEntry) throws(CatalogRefusal) -> NamespaceEntry {
        var schema = entry.schema
        for (name, raw) in attributes.sorted(by: { $0.key < $1.key }) {
            let type = SearchAttributeType(rawValue: raw)
            if added, type == nil {
                throw CatalogRefusal(.invalidArgument, "search attribute \(name): unknown type \(raw); use one of "
                    + "Text(1), Keyword(2), Int(3), Double(4), Bool(5), Datetime(6), KeywordList(7)")
            }
            do throws(ValidationError) {
                if let type, added {
                    try schema.addCustomAttribute(name, type: type)
                } else {
                    try schema.removeCustomAttribute(name)
                }
            } catch {
                if case .undefinedAttribute = error.reason {
                    throw CatalogRefusal(.notFound, "namespace \(entry.name): \(error.message)")
                }
                if case .attributeExists = error.reason {
                    throw CatalogRefusal(.alreadyExists, "namespace \(entry.name): \(error.message)")
                }
                throw CatalogRefusal(.invalidArgument, "namespace \(entry.name): \(error.message)")
            }
        }
        var changed = entry
        changed.customAttributes = schema.customAttributes.mapValues(\.rawValue)
        return changed
    }
}
