import PeriscopeShard
import PeriscopeStorage

/// What the node's small state machines (the namespace catalog, the region map) share:
/// each keeps its state in the default column family of a RocksDB of its own, with its
/// applied index under `appliedKey`, so a snapshot is that one family.
extension Database {
    /// The applied index stored under `key` (0 when none is).
    func appliedIndex(under key: [UInt8], options: ReadOptions = ReadOptions()) throws -> UInt64 {
        guard let bytes = try get(key, options: options) else { return 0 }
        guard bytes.count == 8 else { throw ShardError("\(path): the applied index has \(bytes.count) bytes, not 8") }
        return readBigEndian(bytes[...])
    }

    /// The machine frozen now, for a follower's snapshot.
    func machineSnapshot(appliedKey: [UInt8]) throws -> MachineSnapshot {
        let snapshot = try makeSnapshot()
        let applied = try appliedIndex(under: appliedKey, options: ReadOptions(snapshot: snapshot))
        return MachineSnapshot(appliedIndex: applied) { [self] directory in
            try exportFiles(of: [defaultColumnFamily], at: snapshot, to: directory)
        }
    }

    /// Replaces the machine's state with a snapshot's files and records `index` as applied,
    /// synced: the caller reloads its in-memory view after.
    func installMachineSnapshot(files: [ExportedFile], in directory: String, appliedKey: [UInt8], at index: UInt64) throws {
        try replaceContents(of: defaultColumnFamily, with: files.map(\.name).sorted(), in: directory)
        try put(appliedKey, bigEndian(index), options: .buffered)
        try syncWriteAheadLog()
    }
}
