import PeriscopeStorage

/// A state machine's applied state frozen at one index, to be written out as files: what a
/// Raft snapshot carries to a replica that fell behind its leader's log or joins empty.
public struct MachineSnapshot: Sendable {
    /// The machine's applied index when it was taken: the state is exactly that of the log
    /// through this index.
    public var appliedIndex: UInt64
    /// Writes the frozen state into `directory` (which exists) and describes the files.
    /// **Blocks** for as long as reading the whole state takes: never on the Raft loop.
    public var write: @Sendable (_ directory: String) throws -> [ExportedFile]

    public init(appliedIndex: UInt64, write: @escaping @Sendable (_ directory: String) throws -> [ExportedFile]) {
        self.appliedIndex = appliedIndex
        self.write = write
    }
}

extension Shard {
    /// Freezes the shard as it stands (a RocksDB snapshot: cheap, taken on the apply
    /// thread so that its applied index is exactly the group's). Every column family is
    /// written out, the indexes and their watermarks included, so the receiver's indexer
    /// continues from where this replica's stood. Hold it only while the files are written:
    /// it pins the versions it sees.
    public func takeSnapshot() throws -> MachineSnapshot {
        let snapshot = try database.makeSnapshot()
        let applied = try metaIndex(ShardKeys.appliedIndex, options: ReadOptions(snapshot: snapshot))
        let families = ShardColumnFamily.allCases.map { family($0) }
        return MachineSnapshot(appliedIndex: applied) { [database] directory in
            try database.exportFiles(of: families, at: snapshot, to: directory)
        }
    }

    /// Replaces the shard's whole contents with a snapshot's files (made by `takeSnapshot`
    /// on another replica of the same group) and makes its applied index `index`, which is
    /// at or after the files' own: entries between them changed no data (membership).
    /// Apply, indexing and the locator sweep wait meanwhile; points in time are dropped
    /// (pages that used them continue at a new one, saying so). The meta family, which
    /// holds the applied index, is replaced last and the result synced, so a crash part-way
    /// leaves an applied index below `index` and the install is done again at restart.
    /// **Blocks**.
    public func installSnapshot(files: [ExportedFile], in directory: String, at index: UInt64) throws {
        let byFamily = Dictionary(grouping: files, by: \.columnFamily)
        let known = Set(ShardColumnFamily.allCases.map(\.rawValue))
        if let unknown = byFamily.keys.first(where: { !known.contains($0) }) {
            throw ShardError("a snapshot for \(path) holds column family '\(unknown)', which a shard does not have")
        }
        try indexerLock.withLock { _ in
            try applyState.withLock { state in
                pointsInTime.releaseAll()
                let order = ShardColumnFamily.allCases.filter { $0 != .meta } + [.meta]
                for name in order {
                    let names = (byFamily[name.rawValue] ?? []).sorted { $0.name < $1.name }.map(\.name)
                    try database.replaceContents(of: family(name), with: names, in: directory)
                }
                let stored = try metaIndex(ShardKeys.appliedIndex, options: ReadOptions())
                guard stored <= index else {
                    throw ShardError("a snapshot for \(path) holds applied index \(stored), past the index \(index) it was sent at")
                }
                let width = try database.get(ShardKeys.partitionWidth, in: family(.meta)).map { try readFixed($0, what: "partition width") }
                guard width == UInt64(bitPattern: configuration.partitionScheme.widthNanoseconds) else {
                    throw ShardError("a snapshot for \(path) files executions in partitions \(width.map(String.init) ?? "of no width") ns "
                        + "wide; this replica uses \(configuration.partitionScheme.widthNanoseconds) ns: every node of a region "
                        + "must use the same partition scheme")
                }
                try database.put(ShardKeys.appliedIndex, bigEndian(index), in: family(.meta), options: .buffered)
                try database.syncWriteAheadLog()
                state.appliedIndex = index
                state.horizons = try horizons(options: ReadOptions())
                state.crossRegion = try crossRegionState()
                state.sweep = LocatorSweep()
                indexProgress.reset(to: try watermarks().values.min() ?? 0)
            }
        }
    }
}
