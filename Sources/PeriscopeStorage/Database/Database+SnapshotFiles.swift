import Foundation

/// One SST file holding part of a column family's contents, made by `exportFiles` and
/// consumed by `replaceContents`: how Raft snapshots carry a state machine between nodes.
public struct ExportedFile: Sendable, Codable, Hashable {
    public var columnFamily: String
    /// The file's name inside its directory: "<column family>.<n>.sst".
    public var name: String
    public var bytes: Int
    public var entries: Int

    public init(columnFamily: String, name: String, bytes: Int, entries: Int) {
        self.columnFamily = columnFamily
        self.name = name
        self.bytes = bytes
        self.entries = entries
    }
}

extension Database {
    /// Writes every entry of `families`, as `snapshot` sees them, into SST files in
    /// `directory` (which must exist and be empty of such names), a new file every
    /// `fileBytesMax` bytes of keys and values. An empty family gets no file. The files are
    /// fsync'd by RocksDB when finished. **Blocks**, for as long as reading the families takes.
    public func exportFiles(of families: [ColumnFamily], at snapshot: Snapshot, to directory: String,
                            fileBytesMax: Int = 64 << 20) throws -> [ExportedFile] {
        precondition(fileBytesMax > 0, "fileBytesMax must be positive")
        var files: [ExportedFile] = []
        for family in families {
            // Bulk reads that would only evict what queries need from the shared block cache.
            let cursor = try makeCursor(in: family, options: ReadOptions(snapshot: snapshot, fillCache: false))
            var more = try cursor.seekToFirst()
            var sequence = 0
            while more {
                let name = "\(family.name).\(sequence).sst"
                sequence += 1
                let writer = try SSTFileWriter(path: directory + "/" + name)
                var rawBytes = 0
                while more, rawBytes < fileBytesMax {
                    let key = cursor.key
                    let value = cursor.value
                    try writer.put(key, value)
                    rawBytes += key.count + value.count
                    more = try cursor.next()
                }
                let entries = writer.entryCount
                files.append(ExportedFile(columnFamily: family.name, name: name, bytes: try writer.finish(), entries: entries))
            }
        }
        return files
    }

    /// Replaces the whole contents of `family` with the entries of `files` (SST files made
    /// by `exportFiles`, in `directory`): everything in the family is range-deleted, then the
    /// files are ingested, hard-linked where the filesystem allows (the originals stay: the
    /// caller removes them once the whole replacement is durable). Readers may see the family empty between the two steps. The
    /// deletion is not synced here: call `syncWriteAheadLog` once every family is replaced.
    /// **Blocks**.
    public func replaceContents(of family: ColumnFamily, with files: [String], in directory: String) throws {
        if let (first, last) = try keyBounds(of: family) {
            // The range's end is exclusive: the last key followed by a zero byte is the
            // smallest key after it.
            try deleteRange(from: first, to: last + [0], in: family, options: .buffered)
        }
        // RocksDB moves the files it ingests: it is given hard links, so the originals stay
        // (a crash part-way must be able to install them again). Where links cannot be made
        // (another filesystem), it copies.
        var links: [String] = []
        defer { for link in links { unlink(link) } }
        for file in files {
            let original = directory + "/" + file
            let link = original + ".ingesting"
            unlink(link)
            guard Foundation.link(original, link) == 0 else {
                try ingest(files: files.map { directory + "/" + $0 }, into: family, moveFiles: false)
                return
            }
            links.append(link)
        }
        try ingest(files: links, into: family, moveFiles: true)
    }

    /// The first and last keys of a family, or nil if it is empty.
    private func keyBounds(of family: ColumnFamily) throws -> (first: Bytes, last: Bytes)? {
        let cursor = try makeCursor(in: family, options: ReadOptions(fillCache: false))
        guard try cursor.seekToFirst() else { return nil }
        let first = cursor.key
        try cursor.seekToLast()
        return (first, cursor.key)
    }
}
