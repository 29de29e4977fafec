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
    /// The region this replica's node is in: a namespace's changes are accepted only in its home.
    let localRegion: String
    private struct State {
        var applied: UInt64
        var byName: [String: NamespaceEntry]
    }
    private let state: Mutex<State>
    /// Called after each apply or install that changed a namespace (on the Raft loop's thread).
    private let onChange: @Sendable ([NamespaceEntry]) -> Void

    private static let appliedKey = Array("applied-index".utf8)
    private static let namespacePrefix = Array("namespace/".utf8)

    /// Opens (or creates) the catalog in `path`. **Blocks.**
    public static func open(at path: String, localRegion: String, environment: StorageEnvironment = .shared,
                            onChange: @escaping @Sendable ([NamespaceEntry]) -> Void = { _ in }) throws -> NamespaceCatalog {
        var options = DatabaseOptions(environment: environment)
        options.createIfMissing = true
        let database = try Database.open(at: path, options: options)
        do {
            let applied = try database.appliedIndex(under: appliedKey)
            return NamespaceCatalog(database: database, localRegion: localRegion,
                                    state: State(applied: applied, byName: try storedNamespaces(in: database)), onChange: onChange)
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

    private init(database: Database, localRegion: String, state: State, onChange: @escaping @Sendable ([NamespaceEntry]) -> Void) {
        self.database = database
        self.localRegion = localRegion
        self.state = Mutex(state)
        self.onChange = onChange
    }

    public func close() throws { try database.close() }

    // MARK: Reads (any thread, from memory)

    public func namespace(named name: String) -> NamespaceEntry? { state.withLock { $0.byName[name] } }

    /// Every namespace, by name.
    public var namespaces: [NamespaceEntry] { state.withLock { $0.byName.values.sorted { $0.name < $1.name } } }

    // MARK: ReplicatedStateMachine

    public var appliedIndex: UInt64 { state.withLock { $0.applied } }

    public func apply(_ entries: [CommittedEntry]) throws -> [UInt64: CatalogOutcome] {
        let (outcomes, changed) = try state.withLock { state -> ([UInt64: CatalogOutcome], [NamespaceEntry]) in
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
                    let after = try Self.apply(command, to: byName, localRegion: localRegion)
                    if byName[after.name] != after {
                        byName[after.name] = after
                        changed.insert(after.name)
                    }
                    outcome = .done(after)
                } catch let refusal as CatalogRefusal {
                    outcome = .refused(refusal)
                } catch {
                    outcome = .refused(CatalogRefusal(.invalidArgument, "undecodable catalog command: \(error)"))
                }
                outcomes[entry.index] = outcome
            }
            guard applied > state.applied else { return (outcomes, []) }
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
            return (outcomes, changed.sorted().map { byName[$0]! })
        }
        if !changed.isEmpty { onChange(changed) }
        return outcomes
    }

    public func syncApplied() throws -> UInt64 {
        let applied = appliedIndex
        try database.syncWriteAheadLog()
        return applied
    }

    public func takeSnapshot() throws -> MachineSnapshot { try database.machineSnapshot(appliedKey: Self.appliedKey) }

    public func installSnapshot(files: [ExportedFile], in directory: String, at index: UInt64) throws {
        let installed = try state.withLock { state -> [NamespaceEntry] in
            try database.installMachineSnapshot(files: files, in: directory, appliedKey: Self.appliedKey, at: index)
            state.applied = index
            state.byName = try Self.storedNamespaces(in: database)
            return state.byName.values.sorted { $0.name < $1.name }
        }
        onChange(installed)
    }

    /// The namespace after `command`, or why not. Pure: the same on every replica (of this
    /// region: `localRegion` is where the replica is).
    static func apply(_ command: CatalogCommand, to byName: [String: NamespaceEntry],
                      localRegion: String) throws(CatalogRefusal) -> NamespaceEntry {
        func existing(_ name: String) throws(CatalogRefusal) -> NamespaceEntry {
            guard let entry = byName[name] else { throw CatalogRefusal(.notFound, "namespace \(name) does not exist") }
            return entry
        }
        /// The namespace, to be changed here: only its home region orders its changes.
        func homed(_ name: String) throws(CatalogRefusal) -> NamespaceEntry {
            var entry = try existing(name)
            guard entry.homeRegion == localRegion else {
                throw CatalogRefusal(.failedPrecondition, "namespace \(name) is homed in region \(entry.homeRegion); its changes are made there")
            }
            entry.metadataVersion += 1
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
            created.failoverVersion = 0
            created.metadataVersion = 1
            created.initialHome = entry.homeRegion
            created.handingOverTo = nil
            created.regionsAddedAt = [:]
            return try withAttributes(entry.customAttributes, added: true, to: created)
        case .setRetention(let name, let seconds):
            try checkRetention(seconds)
            var entry = try homed(name)
            entry.retentionSeconds = seconds
            return entry
        case .addAttributes(let name, let attributes):
            return try withAttributes(attributes, added: true, to: try homed(name))
        case .removeAttributes(let name, let names):
            return try withAttributes(Dictionary(names.map { ($0, 0) }, uniquingKeysWith: { a, _ in a }), added: false,
                                      to: try homed(name))
        case .setRegions(let name, let regions):
            var entry = try homed(name)
            try checkRegions(regions, home: entry.homeRegion, of: name)
            guard entry.handingOverTo == nil else {
                throw CatalogRefusal(.failedPrecondition, "namespace \(name) is failing over to \(entry.handingOverTo!); change its regions after")
            }
            let added = Set(regions).subtracting(entry.regions)
            entry.regions = Set(regions).sorted()
            entry.regionsAddedAt = entry.regionsAddedAt.filter { regions.contains($0.key) }
            for region in added { entry.regionsAddedAt[region] = entry.metadataVersion }
            return entry
        case .setImporting(let name, let importing, let failoverVersion, let ceiling):
            var entry = try homed(name)
            guard entry.handingOverTo == nil || !importing else {
                throw CatalogRefusal(.failedPrecondition, "namespace \(name) is failing over to \(entry.handingOverTo!); start the import after")
            }
            entry.importing = importing
            entry.importCeiling = importing ? nil : (ceiling ?? entry.importCeiling)
            if let failoverVersion, failoverVersion > entry.failoverVersion { entry.failoverVersion = failoverVersion }
            return entry
        case .beginHandover(let name, let target):
            var entry = try homed(name)
            if entry.handingOverTo == target { return try existing(name) }
            guard !entry.importing else {
                // Imported writes carry the source's order, above any failover version a
                // handover would fence: finish (or abort) the migration first.
                throw CatalogRefusal(.failedPrecondition, "namespace \(name) is the target of a migration; finish it before a planned failover")
            }
            try checkFailoverTarget(target, of: entry)
            guard entry.handingOverTo == nil else {
                throw CatalogRefusal(.failedPrecondition, "namespace \(name) is already failing over to \(entry.handingOverTo!)")
            }
            entry.handingOverTo = target
            return entry
        case .completeHandover(let name, let failoverVersion):
            var entry = try homed(name)
            guard let target = entry.handingOverTo else {
                throw CatalogRefusal(.failedPrecondition, "namespace \(name) has no failover under way")
            }
            guard failoverVersion > entry.failoverVersion else {
                throw CatalogRefusal(.invalidArgument, "failover version \(failoverVersion) is not above \(entry.failoverVersion)")
            }
            entry.homeRegion = target
            entry.handingOverTo = nil
            entry.failoverVersion = failoverVersion
            return entry
        case .cancelHandover(let name):
            var entry = try homed(name)
            guard entry.handingOverTo != nil else { return try existing(name) }
            entry.handingOverTo = nil
            return entry
        case .forceFailover(let name, let target, let failoverVersion):
            var entry = try existing(name)
            guard entry.homeRegion != target else { return entry }
            guard target == localRegion else {
                throw CatalogRefusal(.failedPrecondition, "a forced failover is made in the region taking over (\(target)), not in \(localRegion)")
            }
            try checkFailoverTarget(target, of: entry)
            guard failoverVersion > entry.failoverVersion else {
                throw CatalogRefusal(.invalidArgument, "failover version \(failoverVersion) is not above \(entry.failoverVersion)")
            }
            entry.homeRegion = target
            entry.handingOverTo = nil
            entry.failoverVersion = failoverVersion
            entry.metadataVersion += 1
            return entry
        case .replicate(let incoming):
            if let stored = byName[incoming.name], !Self.isNewer(incoming, than: stored) {
                throw CatalogRefusal(.alreadyExists, "namespace \(incoming.name): this region has \(stored.version), not older than "
                    + "\(incoming.version)")
            }
            try checkNew(incoming)
            return incoming
        }
    }

    /// Whether `incoming` replaces `stored`: a newer version, or (never expected: one home
    /// orders each version) the same version with a larger encoding, so regions agree anyway.
    static func isNewer(_ incoming: NamespaceEntry, than stored: NamespaceEntry) -> Bool {
        if incoming.version != stored.version { return incoming.version > stored.version }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard let one = try? encoder.encode(incoming), let other = try? encoder.encode(stored) else { return false }
        return other.lexicographicallyPrecedes(one)
    }

    private static func checkFailoverTarget(_ target: String, of entry: NamespaceEntry) throws(CatalogRefusal) {
        guard target != entry.homeRegion else {
            throw CatalogRefusal(.failedPrecondition, "namespace \(entry.name) is already homed in region \(target)")
        }
        guard entry.regions.contains(target) else {
            throw CatalogRefusal(.failedPrecondition, "namespace \(entry.name) is not held by region \(target) (its regions: "
                + "\(entry.regions.joined(separator: ", "))); add the region first, then fail over once it has caught up")
        }
    }

    private static func checkRegions(_ regions: [String], home: String, of name: String) throws(CatalogRefusal) {
        guard !regions.isEmpty, regions.count <= DeploymentDirectory.regionsMax else {
            throw CatalogRefusal(.invalidArgument, "namespace \(name) names \(regions.count) regions; 1 ... \(DeploymentDirectory.regionsMax)")
        }
        for region in regions {
            if let problem = RegionName.problem(with: region) { throw CatalogRefusal(.invalidArgument, problem) }
        }
        guard regions.contains(home) else {
            throw CatalogRefusal(.invalidArgument, "namespace \(name)'s regions (\(regions.joined(separator: ", "))) must include its home region \(home)")
        }
    }

    /// What a new namespace must be whatever the catalog holds: a valid name, an id and home
    /// region of 1 ... 255 bytes, a retention in range. The node checks it before proposing
    /// (nothing is proposed for bad input); apply checks it again (replicas must agree).
    static func checkNew(_ entry: NamespaceEntry) throws(CatalogRefusal) {
        if let problem = NamespaceName.problem(with: entry.name) { throw CatalogRefusal(.invalidArgument, problem) }
        guard !entry.id.isEmpty, entry.id.utf8.count <= NamespaceName.bytesMax else {
            throw CatalogRefusal(.invalidArgument, "namespace id of \(entry.id.utf8.count) bytes is outside 1 ... \(NamespaceName.bytesMax)")
        }
        if let problem = RegionName.problem(with: entry.homeRegion) { throw CatalogRefusal(.invalidArgument, "home_region: \(problem)") }
        try checkRegions(entry.regions, home: entry.homeRegion, of: entry.name)
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
