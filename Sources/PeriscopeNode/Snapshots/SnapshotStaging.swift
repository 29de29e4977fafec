import Foundation
import PeriscopeShard
import PeriscopeStorage

/// Where snapshots wait on disk: `<data>/snapshots/`. A received snapshot is written into
/// `<name>.partial/`, and renamed to `<name>/` (with `manifest.json`, its file list) once
/// every file arrived, was checked and fsync'd. The Raft log records the name; the group
/// removes the folder only after its state machine installed it durably, so a crash
/// part-way installs it again at the next start. Snapshots this node sends are written
/// under `outgoing/`.
struct SnapshotStaging: Sendable {
    let root: String

    static let manifestName = "manifest.json"

    init(root: String) { self.root = root }

    var outgoing: String { root + "/outgoing" }

    func path(of name: String) -> String { root + "/" + name }

    /// Empties the staging folder at a start: only complete snapshots a group still has to
    /// install are kept, and those groups remove them (`removeLeftovers` runs after).
    func prepare() throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for entry in try FileManager.default.contentsOfDirectory(atPath: root) where entry.hasSuffix(".partial") || entry == "outgoing" {
            try FileManager.default.removeItem(atPath: path(of: entry))
        }
    }

    /// Removes every snapshot no group installed: once every group has opened, a folder left
    /// here is one no Raft log names (a crash between receiving it and stepping it).
    func removeLeftovers() {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] { remove(entry) }
    }

    func remove(_ name: String) {
        try? FileManager.default.removeItem(atPath: path(of: name))
    }

    func manifest(of name: String) throws -> [ExportedFile] {
        let file = path(of: name) + "/" + Self.manifestName
        do {
            return try JSONDecoder().decode([ExportedFile].self, from: Data(contentsOf: URL(fileURLWithPath: file)))
        } catch {
            throw ShardError("the snapshot manifest \(file) is unreadable: \(error)")
        }
    }

    /// Writes the manifest of a received snapshot into its `.partial` folder, fsyncs it, and
    /// renames the folder to `name`: from then on the snapshot is complete.
    func complete(_ name: String, files: [ExportedFile]) throws {
        let partial = path(of: name) + ".partial"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try DurableFiles.write(try encoder.encode(files), to: partial + "/" + Self.manifestName)
        try DurableFiles.rename(partial, to: path(of: name))
    }
}

/// Small POSIX helpers for files that must survive a crash once written.
enum DurableFiles {
    /// Writes `data` to `path` (replacing it), fsync'd.
    static func write(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ShardError("cannot create \(path): errno \(errno)") }
        defer { close(fd) }
        try writeAll(fd, Array(data), at: 0, path: path)
        guard fsync(fd) == 0 else { throw ShardError("cannot fsync \(path): errno \(errno)") }
    }

    /// Renames and fsyncs the parent folder, so the new name survives a crash.
    static func rename(_ from: String, to: String) throws {
        guard Foundation.rename(from, to) == 0 else { throw ShardError("cannot rename \(from) to \(to): errno \(errno)") }
        syncFolder(containing: to)
    }

    static func syncFolder(containing path: String) {
        let folder = open((path as NSString).deletingLastPathComponent, O_RDONLY)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: UInt64, path: String) throws {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                pwrite(fd, buffer.baseAddress! + written, bytes.count - written, off_t(offset) + off_t(written))
            }
            guard count > 0 else { throw ShardError("cannot write \(path) at offset \(offset + UInt64(written)): errno \(errno)") }
            written += count
        }
    }

    /// Up to `count` bytes of `fd` from `offset`; fewer only at the end of the file.
    static func read(_ fd: Int32, at offset: UInt64, count: Int, path: String) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes { buffer in
                pread(fd, buffer.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled))
            }
            guard got >= 0 else { throw ShardError("cannot read \(path) at offset \(offset + UInt64(filled)): errno \(errno)") }
            if got == 0 { break }
            filled += got
        }
        bytes.removeLast(count - filled)
        return bytes
    }
}
