@preconcurrency import Crypto
import Foundation
import Logging
import PeriscopeAPI
import PeriscopeRaft
import PeriscopeRaftLog
import PeriscopeRPC
import PeriscopeStorage
import Synchronization

/// `RaftTransport.SendSnapshot` on the receiving side: the chunks of one snapshot are
/// checked (the first carries the Raft message, addressed to this node from the caller;
/// file names are plain; each file's chunks continue at its end; sizes and SHA-256 match
/// what the sender computed) and written into a `.partial` staging folder, fsync'd file by
/// file. Once complete it is renamed, and the Raft message is stepped into its group with
/// the staging name as its data: the group installs it with its next Ready (§11.7). The
/// answer waits until the group has applied the snapshot's index.
///
/// Bounded: one snapshot per group and `receivesMax` in all at a time (others are refused
/// with RESOURCE_EXHAUSTED: the leader asks again later), `filesMax` files and `bytesMax`
/// bytes per snapshot. Anything else that arrives fails the call with INVALID_ARGUMENT
/// naming the chunk, and the partial folder is removed.
final class SnapshotReceiver: Sendable {
    struct Limits: Sendable {
        var receivesMax = 2
        var filesMax = 10_000
        var bytesMax: UInt64 = 1 << 40
        /// How long the group may take to install a complete snapshot before the answer.
        var installTimeout: Duration = .seconds(600)
    }

    let selfID: NodeID
    let loop: RaftLoop
    let staging: SnapshotStaging
    let limits: Limits
    let isIsolated: @Sendable (NodeID) -> Bool
    let logger: Logger
    private let receiving = Mutex<Set<GroupID>>([])
    private let installedCount = Atomic<Int>(0)

    /// Snapshots installed since the node started.
    var installed: Int { installedCount.load(ordering: .relaxed) }

    init(selfID: NodeID, loop: RaftLoop, staging: SnapshotStaging, limits: Limits = Limits(),
         isIsolated: @escaping @Sendable (NodeID) -> Bool, logger: Logger) {
        self.selfID = selfID
        self.loop = loop
        self.staging = staging
        self.limits = limits
        self.isIsolated = isIsolated
        self.logger = logger
    }

    func register(in router: inout RPCRouter) {
        router.bidirectionalStreaming(RaftTransportMethods.sendSnapshot) { [self] chunks, results, _ in
            var iterator = chunks.makeAsyncIterator()
            guard let first = try await iterator.next() else {
                throw RPCStatus(.invalidArgument, "a snapshot call without chunks")
            }
            let header = try check(first)
            let group = header.groupID
            try await reserve(group)
            defer { receiving.withLock { _ = $0.remove(group) } }

            let metadata = RaftWire.decode(header.snapshot)
            let name = "\(group)-\(metadata.index)-\(UInt64.random(in: 1...UInt64.max))"
            let partial = staging.path(of: name) + ".partial"
            var files = IncomingFiles(directory: partial, limits: limits)
            do {
                try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
                var chunk = first
                var position = 0
                while true {
                    do {
                        try await files.take(chunk)
                    } catch let invalid as RaftWire.Invalid {
                        throw RPCStatus(.invalidArgument, "snapshot of group \(group), chunk \(position): \(invalid)")
                    }
                    if chunk.last { break }
                    guard let next = try await iterator.next() else {
                        throw RPCStatus(.invalidArgument, "snapshot of group \(group): the stream ended after chunk \(position), "
                            + "before the last one")
                    }
                    position += 1
                    guard !next.hasMessage else {
                        throw RPCStatus(.invalidArgument, "snapshot of group \(group), chunk \(position): only the first chunk "
                            + "carries the Raft message")
                    }
                    chunk = next
                }
                try files.finish()
                try staging.complete(name, files: files.received)
            } catch {
                files.abandon()
                try? FileManager.default.removeItem(atPath: partial)
                throw error
            }

            let message: GroupMessage
            do {
                message = try RaftWire.decode(header, snapshotData: Array(name.utf8))
            } catch {
                staging.remove(name)
                throw RPCStatus(.invalidArgument, "snapshot of group \(group): \(error)")
            }
            let taken = try await loop.withGroup(group) { [staging] replica -> Bool in
                guard let replica else {
                    staging.remove(name)
                    return false
                }
                return replica.receiveSnapshot(message.message, named: name)
            }
            var applied = try await appliedIndex(of: group)
            if taken {
                let deadline = ContinuousClock.now + limits.installTimeout
                while applied < metadata.index, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                    applied = try await appliedIndex(of: group)
                }
                if applied >= metadata.index { installedCount.add(1, ordering: .relaxed) }
                logger.info("received a snapshot", metadata: [
                    "group": "\(group)", "from": "\(header.from)", "index": "\(metadata.index)",
                    "files": "\(files.received.count)", "bytes": "\(files.totalBytes)", "applied": "\(applied)",
                ])
            }
            try await results.send(.with {
                $0.installed = applied >= metadata.index
                $0.appliedIndex = applied
            })
        }
    }

    /// The first chunk's Raft message, if it is a snapshot for this node from a peer it may hear from.
    private func check(_ first: Periscope_V1_SnapshotChunk) throws(RPCStatus) -> Periscope_V1_RaftMessage {
        guard first.hasMessage, first.message.type == .snapshot, first.message.hasSnapshot else {
            throw RPCStatus(.invalidArgument, "the first chunk of a snapshot must carry its Raft message (type SNAPSHOT, with metadata)")
        }
        let header = first.message
        guard header.to == selfID else {
            throw RPCStatus(.failedPrecondition, "this is node \(selfID), not node \(header.to): the sender's address book is stale")
        }
        guard header.from != noNode, header.from != selfID, header.groupID != 0 else {
            throw RPCStatus(.invalidArgument, "a snapshot from node \(header.from) for group \(header.groupID)")
        }
        guard !isIsolated(header.from) else {
            throw RPCStatus(.unavailable, "node \(selfID) is cut off from node \(header.from) (fault injection)")
        }
        return header
    }

    private func reserve(_ group: GroupID) async throws {
        guard try await loop.withGroup(group, { $0 != nil }) else {
            throw RPCStatus(.notFound, "node \(selfID) hosts no group \(group)")
        }
        let reserved = receiving.withLock { receiving -> Bool in
            guard receiving.count < limits.receivesMax, !receiving.contains(group) else { return false }
            receiving.insert(group)
            return true
        }
        guard reserved else {
            throw RPCStatus(.resourceExhausted, "node \(selfID) is receiving \(limits.receivesMax) snapshots, or one of group \(group), "
                + "already; ask again later")
        }
    }

    private func appliedIndex(of group: GroupID) async throws -> UInt64 {
        try await loop.withGroup(group) { $0?.appliedIndex ?? 0 }
    }
}

/// The files of one snapshot as their chunks arrive: one open file at a time, written at
/// the offsets the chunks name, each checked against the size and SHA-256 its last chunk
/// carries and fsync'd before the next begins.
private struct IncomingFiles {
    let directory: String
    let limits: SnapshotReceiver.Limits
    private(set) var received: [ExportedFile] = []
    private(set) var totalBytes: UInt64 = 0
    private var current: (name: String, fd: Int32, offset: UInt64, hasher: SHA256)?

    init(directory: String, limits: SnapshotReceiver.Limits) {
        self.directory = directory
        self.limits = limits
    }

    mutating func take(_ chunk: Periscope_V1_SnapshotChunk) async throws {
        guard !chunk.fileName.isEmpty else {
            guard chunk.data.isEmpty, !chunk.lastChunkOfFile else { throw RaftWire.Invalid(description: "data without a file name") }
            return
        }
        if let open = current, open.name != chunk.fileName {
            throw RaftWire.Invalid(description: "file \(chunk.fileName) begins before \(open.name) ended")
        }
        if current == nil { try begin(chunk) }
        guard chunk.offset == current!.offset else {
            throw RaftWire.Invalid(description: "file \(chunk.fileName) continues at offset \(chunk.offset); \(current!.offset) bytes arrived")
        }
        totalBytes += UInt64(chunk.data.count)
        guard totalBytes <= limits.bytesMax else {
            throw RaftWire.Invalid(description: "the snapshot exceeds \(limits.bytesMax) bytes")
        }
        let bytes = Array(chunk.data)
        let (fd, offset, path) = (current!.fd, current!.offset, directory + "/" + chunk.fileName)
        try await Thread.run { try DurableFiles.writeAll(fd, bytes, at: offset, path: path) }
        current!.hasher.update(data: bytes)
        current!.offset += UInt64(bytes.count)
        if chunk.lastChunkOfFile { try await end(chunk) }
    }

    private mutating func begin(_ chunk: Periscope_V1_SnapshotChunk) throws {
        let name = chunk.fileName
        guard let family = Self.columnFamily(ofFileNamed: name) else {
            throw RaftWire.Invalid(description: "file name '\(name.prefix(80))' is not <column family>.<n>.sst")
        }
        guard !received.contains(where: { $0.name == name }) else { throw RaftWire.Invalid(description: "file \(name) arrives twice") }
        guard received.count < limits.filesMax else { throw RaftWire.Invalid(description: "more than \(limits.filesMax) files") }
        guard chunk.offset == 0 else { throw RaftWire.Invalid(description: "file \(name) begins at offset \(chunk.offset)") }
        let path = directory + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw RPCStatus(.internalError, "cannot create \(path): errno \(errno)") }
        current = (name, fd, 0, SHA256())
        received.append(ExportedFile(columnFamily: family, name: name, bytes: 0, entries: 0))
    }

    private mutating func end(_ chunk: Periscope_V1_SnapshotChunk) async throws {
        let file = current!
        current = nil
        defer { close(file.fd) }
        let digest = Data(file.hasher.finalize())
        guard chunk.fileBytes == file.offset, chunk.fileSha256 == digest else {
            throw RaftWire.Invalid(description: "file \(file.name): \(file.offset) bytes with SHA-256 \(digest.hex.prefix(16)) arrived; "
                + "the sender sent \(chunk.fileBytes) bytes with \(chunk.fileSha256.hex.prefix(16))")
        }
        let fd = file.fd
        guard try await Thread.run({ fsync(fd) }) == 0 else { throw RPCStatus(.internalError, "cannot fsync \(file.name): errno \(errno)") }
        received[received.count - 1].bytes = Int(file.offset)
    }

    /// Every file ended with its last chunk.
    func finish() throws {
        if let open = current { throw RaftWire.Invalid(description: "file \(open.name) has no last chunk") }
    }

    /// Closes a file left open by a failed call.
    mutating func abandon() {
        if let open = current { close(open.fd) }
        current = nil
    }

    /// "<column family>.<n>.sst" → the column family; nil for any other name (a path, `..`,
    /// characters a column family never has).
    static func columnFamily(ofFileNamed name: String) -> String? {
        guard name.utf8.count <= 128, name.hasSuffix(".sst"),
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }) else { return nil }
        var parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts.removeLast() == "sst", let sequence = parts.popLast(), !sequence.isEmpty,
              sequence.allSatisfy(\.isNumber), !parts.contains(where: \.isEmpty) else { return nil }
        return parts.joined(separator: ".")
    }
}

extension Data {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
