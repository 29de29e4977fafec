import Foundation
import PeriscopeShard
import PeriscopeStorage
import Synchronization

/// The region map as the state machine of its own Raft group (group 2, a replica on every
/// member), kept in a RocksDB of its own (the map as one JSON document, and the applied
/// index, written atomically) and mirrored in memory for every node's routing, address book
/// and membership controller.
public final class RegionMapMachine: ReplicatedStateMachine {
    public typealias Outcome = RegionMapOutcome

    private let database: Database
    private struct State {
        var applied: UInt64
        var map: RegionMap
    }
    private let state: Mutex<State>
    /// Called after each apply or install that changed the map (on the Raft loop's thread).
    private let onChange: @Sendable (RegionMap) -> Void

    private static let appliedKey = Array("applied-index".utf8)
    private static let mapKey = Array("map".utf8)

    /// Opens (or creates) the map in `path`. A new one starts as `initial` (the region's
    /// first members, the same on each of them; a joining node's is replaced by the
    /// snapshot its leader sends). **Blocks.**
    static func open(at path: String, initial: RegionMap, onChange: @escaping @Sendable (RegionMap) -> Void) throws -> RegionMapMachine {
        var options = DatabaseOptions()
        options.createIfMissing = true
        let database = try Database.open(at: path, options: options)
        do {
            let applied = try database.appliedIndex(under: appliedKey)
            var map = initial
            if let stored = try storedMap(in: database) {
                map = stored
            } else {
                // Stored at once, so a snapshot taken before the first entry holds it too.
                try database.put(mapKey, Array(try JSONEncoder().encode(initial)), options: .durable)
            }
            return RegionMapMachine(database: database, state: State(applied: applied, map: map), onChange: onChange)
        } catch {
            try? database.close()
            throw ShardError("the region map in \(path) is damaged: \(error)")
        }
    }

    private init(database: Database, state: State, onChange: @escaping @Sendable (RegionMap) -> Void) {
        self.database = database
        self.state = Mutex(state)
        self.onChange = onChange
    }

    public func close() throws { try database.close() }

    public var map: RegionMap { state.withLock { $0.map } }

    // MARK: ReplicatedStateMachine

    public var appliedIndex: UInt64 { state.withLock { $0.applied } }

    public func apply(_ entries: [CommittedEntry]) throws -> [UInt64: RegionMapOutcome] {
        let (outcomes, changed) = try state.withLock { state -> ([UInt64: RegionMapOutcome], RegionMap?) in
            var outcomes: [UInt64: RegionMapOutcome] = [:]
            var map = state.map
            var applied = state.applied
            for entry in entries where entry.index > applied {
                applied = entry.index
                guard !entry.data.isEmpty else { continue }
                do {
                    map = try map.applying(try RegionMapCommand.decode(entry.data))
                    outcomes[entry.index] = .done(map)
                } catch let refusal as CatalogRefusal {
                    outcomes[entry.index] = .refused(refusal)
                } catch {
                    outcomes[entry.index] = .refused(CatalogRefusal(.invalidArgument, "undecodable region map command: \(error)"))
                }
            }
            guard applied > state.applied else { return (outcomes, nil) }
            let batch = WriteBatch()
            try batch.put(Self.mapKey, Array(try JSONEncoder().encode(map)), in: database.defaultColumnFamily)
            try batch.put(Self.appliedKey, bigEndian(applied), in: database.defaultColumnFamily)
            // Not fsync'd, like every machine's apply: the Raft log is, and replays.
            try database.write(batch, options: .buffered)
            state.applied = applied
            let changed = map != state.map ? map : nil
            state.map = map
            return (outcomes, changed)
        }
        if let changed { onChange(changed) }
        return outcomes
    }

    public func syncApplied() throws -> UInt64 {
        let applied = appliedIndex
        try database.syncWriteAheadLog()
        return applied
    }

    public func takeSnapshot() throws -> MachineSnapshot { try database.machineSnapshot(appliedKey: Self.appliedKey) }

    public func installSnapshot(files: [ExportedFile], in directory: String, at index: UInt64) throws {
        let map = try state.withLock { state -> RegionMap in
            try database.installMachineSnapshot(files: files, in: directory, appliedKey: Self.appliedKey, at: index)
            guard let map = try Self.storedMap(in: database) else {
                throw ShardError("a region map snapshot at index \(index) holds no map")
            }
            state.applied = index
            state.map = map
            return map
        }
        onChange(map)
    }

    private static func storedMap(in database: Database) throws -> RegionMap? {
        try database.get(mapKey).map { try JSONDecoder().decode(RegionMap.self, from: Data($0)) }
    }
}
