@preconcurrency import Crypto
import Foundation
import Logging
import PeriscopeAPI
import PeriscopeRaft
import PeriscopeRaftLog
import PeriscopeRPC
import PeriscopeShard
import PeriscopeStorage
import Synchronization

/// Sends snapshots to followers that need one: when a group's Raft core asks for a
/// snapshot to go to a peer, the group's state machine is frozen on the Raft loop's thread
/// (a RocksDB snapshot, at exactly the group's applied index), written out as SST files on
/// a thread of its own, and streamed on a `SendSnapshot` call of its own (1 MiB chunks, a
/// SHA-256 per file), so ordinary Raft traffic on the `Exchange` stream never waits behind
/// it. The Raft core keeps the follower paused until the outcome is reported.
///
/// Bounded: at most `sendsMax` snapshots leave this node at once and one per (group, peer);
/// a request beyond that is reported undelivered and Raft asks again later.
final class SnapshotSender: Sendable {
    struct Limits: Sendable {
        var sendsMax = 2
        var chunkBytes = 1 << 20
        /// How long one snapshot may take to stream and install.
        var timeout: Duration = .seconds(1_800)
    }

    private struct Send: Hashable {
        var group: GroupID
        var peer: NodeID
    }

    let selfID: NodeID
    let limits: Limits
    private let loop: RaftLoop
    private let pool: RPCConnectionPool
    private let staging: SnapshotStaging
    private let resolve: @Sendable (NodeID) -> RPCEndpoint?
    private let logger: Logger
    private let sending = Mutex<Set<Send>>([])
    private let sent = Atomic<Int>(0)

    init(selfID: NodeID, loop: RaftLoop, pool: RPCConnectionPool, staging: SnapshotStaging, limits: Limits = Limits(),
         resolve: @escaping @Sendable (NodeID) -> RPCEndpoint?, logger: Logger) {
        self.selfID = selfID
        self.loop = loop
        self.pool = pool
        self.staging = staging
        self.limits = limits
        self.resolve = resolve
        self.logger = logger
    }

    /// Snapshots delivered since the node started.
    var delivered: Int { sent.load(ordering: .relaxed) }

    /// Starts sending the snapshot a group's Raft core asked for. Never blocks: called on the
    /// Raft loop's thread.
    func send(_ request: GroupMessage) {
        let send = Send(group: request.group, peer: request.message.to)
        let started = sending.withLock { sending -> Bool? in
            if sending.contains(send) { return nil }  // already on its way: the core waits for it
            guard sending.count < limits.sendsMax else { return false }
            sending.insert(send)
            return true
        }
        switch started {
        case .none: return
        case .some(false): loop.reportSnapshot(group: send.group, to: send.peer, delivered: false)
        case .some(true):
            Task {
                let delivered = await self.transfer(request)
                self.sending.withLock { _ = $0.remove(send) }
                self.loop.reportSnapshot(group: send.group, to: send.peer, delivered: delivered)
            }
        }
    }

    /// Freezes, writes, streams; true once the follower has the snapshot.
    private func transfer(_ request: GroupMessage) async -> Bool {
        let peer = request.message.to
        let started = ContinuousClock.now
        let directory = staging.outgoing + "/\(request.group)-\(peer)-\(UInt64.random(in: 1...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            guard let endpoint = resolve(peer) else { throw RPCStatus(.unavailable, "no address is known for node \(peer)") }
            let (metadata, frozen) = try await loop.withGroup(request.group) { group in
                guard let group else { throw RPCStatus(.notFound, "group \(request.group) is not hosted here any more") }
                return try group.captureSnapshot()
            }
            let files = try await Thread.run {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                return try frozen.write(directory)
            }
            var message = request.message
            message.snapshot = Snapshot(metadata: metadata)
            let result = try await stream(files, from: directory, message: GroupMessage(group: request.group, message: message),
                                          to: endpoint)
            sent.add(1, ordering: .relaxed)
            logger.info("sent a snapshot", metadata: [
                "group": "\(request.group)", "to": "\(peer)", "index": "\(metadata.index)", "files": "\(files.count)",
                "bytes": "\(files.reduce(0) { $0 + $1.bytes })", "installed": "\(result.installed)",
                "took": "\(ContinuousClock.now - started)",
            ])
            return true
        } catch {
            logger.warning("a snapshot did not reach its follower; Raft will ask again", metadata: [
                "group": "\(request.group)", "to": "\(peer)", "error": "\(error)",
            ])
            return false
        }
    }

    private func stream(_ files: [ExportedFile], from directory: String, message: GroupMessage,
                        to endpoint: RPCEndpoint) async throws -> Periscope_V1_SnapshotResult {
        let client = try await pool.client(for: endpoint)
        let chunkBytes = limits.chunkBytes
        return try await client.bidirectionalStreaming(RaftTransportMethods.sendSnapshot, timeout: limits.timeout) { chunks, results in
            var header: Periscope_V1_RaftMessage? = RaftWire.encode(message)
            for file in files {
                let path = directory + "/" + file.name
                let fd = open(path, O_RDONLY)
                guard fd >= 0 else { throw ShardError("cannot open \(path): errno \(errno)") }
                defer { close(fd) }
                var hasher = SHA256()
                var offset: UInt64 = 0
                while true {
                    let data = try await Thread.run { [offset] in try DurableFiles.read(fd, at: offset, count: chunkBytes, path: path) }
                    hasher.update(data: data)
                    let isLast = data.count < chunkBytes
                    var chunk = Periscope_V1_SnapshotChunk()
                    if let first = header {
                        chunk.message = first
                        header = nil
                    }
                    chunk.fileName = file.name
                    chunk.offset = offset
                    chunk.data = Data(data)
                    offset += UInt64(data.count)
                    if isLast {
                        chunk.lastChunkOfFile = true
                        chunk.fileBytes = offset
                        chunk.fileSha256 = Data(hasher.finalize())
                    }
                    try await chunks.send(chunk)
                    if isLast { break }
                }
            }
            var end = Periscope_V1_SnapshotChunk()
            if let first = header { end.message = first }
            end.last = true
            try await chunks.send(end)
            try await chunks.finish()
            var answers = results.makeAsyncIterator()
            guard let result = try await answers.next() else {
                throw RPCStatus(.internalError, "the follower ended the snapshot call without an answer")
            }
            return result
        }
    }
}
