import Crypto
import Foundation
import PeriscopeAPI
import PeriscopeRPC
import PeriscopeTestSupport
import Testing

/// `RaftTransport.SendSnapshot` against a real node, with every kind of bad stream: each is
/// refused naming what was wrong and leaves nothing staged behind.
@Suite struct SnapshotAbuseTests {
    static func header(to node: UInt64 = 1, group: UInt64 = 1_000, term: UInt64 = 0) -> Periscope_V1_RaftMessage {
        .with {
            $0.groupID = group; $0.type = .snapshot; $0.from = 2; $0.to = node; $0.term = term
            $0.snapshot = .with { $0.index = 500; $0.term = 1; $0.confState = .with { $0.voters = [1, 2] } }
        }
    }

    static func file(_ name: String, _ bytes: [UInt8], sha: [UInt8]? = nil) -> Periscope_V1_SnapshotChunk {
        .with {
            $0.fileName = name; $0.data = Data(bytes); $0.lastChunkOfFile = true; $0.fileBytes = UInt64(bytes.count)
            $0.fileSha256 = Data(sha ?? Array(SHA256.hash(data: bytes)))
        }
    }

    /// Sends `chunks` on one call; the call's status, or the result.
    static func send(_ chunks: [Periscope_V1_SnapshotChunk], to client: RPCClient, finish: Bool = true) async -> Result<Periscope_V1_SnapshotResult, RPCStatus> {
        do {
            return .success(try await client.bidirectionalStreaming(RaftTransportMethods.sendSnapshot, timeout: .seconds(20)) { requests, results in
                for chunk in chunks { try await requests.send(chunk) }
                if finish { try await requests.finish() }
                var iterator = results.makeAsyncIterator()
                guard let result = try await iterator.next() else { throw RPCStatus(.internalError, "no result") }
                return result
            })
        } catch {
            return .failure(error)
        }
    }

    @Test func badSnapshotStreamsAreRefusedAndLeaveNothingStaged() async throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let node = try await NodeProcess.start(data: directory + "/data")
        defer { node.killMinusNine() }
        let client = try await RPCClient.connect(host: node.host, port: node.port)

        func expectRefused(_ chunks: [Periscope_V1_SnapshotChunk], _ code: RPCStatus.Code, _ words: String,
                           sourceLocation: SourceLocation = #_sourceLocation) async {
            switch await Self.send(chunks, to: client) {
            case .success(let result): Issue.record("accepted: \(result)", sourceLocation: sourceLocation)
            case .failure(let status):
                #expect(status.code == code && status.message.contains(words), "\(status)", sourceLocation: sourceLocation)
            }
        }
        let content: [UInt8] = Array(repeating: 7, count: 3_000)
        await expectRefused([.with { $0.last = true }], .invalidArgument, "must carry its Raft message")
        await expectRefused([.with { $0.message = Self.header(to: 9); $0.last = true }], .failedPrecondition, "not node 9")
        await expectRefused([.with { $0.message = Self.header(group: 77); $0.last = true }], .notFound, "hosts no group 77")
        var traversal = Self.file("../../etc/passwd.0.sst", content)
        traversal.message = Self.header()
        await expectRefused([traversal], .invalidArgument, "is not <column family>.<n>.sst")
        var corrupt = Self.file("records.0.sst", content, sha: Array(repeating: 0, count: 32))
        corrupt.message = Self.header()
        await expectRefused([corrupt, .with { $0.last = true }], .invalidArgument, "file records.0.sst: 3000 bytes with SHA-256")
        var gap = Self.file("records.0.sst", content)
        gap.message = Self.header()
        gap.offset = 10
        await expectRefused([gap], .invalidArgument, "begins at offset 10")
        var early = Self.file("records.0.sst", content)
        early.message = Self.header()
        await expectRefused([early], .invalidArgument, "before the last one")
        var twice = Self.file("records.0.sst", content)
        twice.message = Self.header()
        await expectRefused([twice, Self.file("records.0.sst", content)], .invalidArgument, "arrives twice")

        // A well-formed snapshot from a stale term: Raft ignores it, the node answers that it
        // did not install it, and its staged files are gone too.
        var stale = Self.file("records.0.sst", content)
        stale.message = Self.header(term: 0)
        switch await Self.send([stale, .with { $0.last = true }], to: client) {
        case .success(let result): #expect(!result.installed)
        case .failure(let status): Issue.record("\(status)")
        }
        await client.close()
        let staged = try FileManager.default.contentsOfDirectory(atPath: directory + "/data/snapshots")
        #expect(staged.isEmpty, "left staged: \(staged)")
    }
}
