import ArgumentParser
import Foundation
import PeriscopeStorage

struct StorageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage",
        abstract: "Look into and maintain a RocksDB directory of a node.",
        subcommands: [InspectCommand.self, CompactCommand.self]
    )
}

/// Read-only: takes no lock, so it also works on the directory of a running node.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List a database's column families with their key estimates and sizes (read-only)."
    )

    @Argument(help: "The database directory.")
    var directory: String

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let database = try Database.open(at: directory, options: DatabaseOptions(readOnly: true, collectStatistics: false))
        defer { try? database.close() }
        let rows = try database.columnFamilyNames.map { name in
            (name, try database.sizes(of: database.requireColumnFamily(name)))
        }
        if json {
            let report = InspectReport(path: directory, columnFamilies: rows.map { name, sizes in
                .init(name: name, estimatedKeys: sizes.estimatedKeys, liveSSTFilesBytes: sizes.liveSSTFilesBytes,
                      memtableBytes: sizes.memtableBytes)
            })
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(Table(
                header: ["column family", "estimated keys", "live SST bytes", "memtable bytes"],
                rows: rows.map { [$0.0, String($0.1.estimatedKeys), String($0.1.liveSSTFilesBytes), String($0.1.memtableBytes)] }
            ).rendered)
        }
    }
}

struct InspectReport: Codable {
    struct Family: Codable {
        let name: String
        let estimatedKeys: UInt64
        let liveSSTFilesBytes: UInt64
        let memtableBytes: UInt64
    }
    let path: String
    let columnFamilies: [Family]
}

/// Read-write: needs the directory's lock, so the node that owns it must be stopped.
struct CompactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Compact every column family of a stopped node's database, reclaiming deleted space."
    )

    @Argument(help: "The database directory.")
    var directory: String

    func run() throws {
        let database = try Database.open(at: directory, options: DatabaseOptions(createIfMissing: false))
        for name in database.columnFamilyNames {
            let family = try database.requireColumnFamily(name)
            let before = try database.sizes(of: family).liveSSTFilesBytes
            try database.compactRange(in: family)
            print("\(name): \(before) -> \(try database.sizes(of: family).liveSSTFilesBytes) live SST bytes")
        }
        try database.close()
    }
}
