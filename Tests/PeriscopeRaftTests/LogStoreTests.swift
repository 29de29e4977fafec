import Foundation
import Testing
import PeriscopeRaft
import PeriscopeRaftLog
import PeriscopeStorage

@Suite struct LogStoreTests {
    private func temporaryStore() throws -> (RaftLogStore, String) {
        let path = NSTemporaryDirectory() + "periscope-raftlog-" + UUID().uuidString
        return (try RaftLogStore(path: path), path)
    }

    private func writeThenReopen(_ body: (RaftLogStore) throws -> Void) throws -> (RaftLogStore, String) {
        let path = NSTemporaryDirectory() + "periscope-raftlog-" + UUID().uuidString
        try body(try RaftLogStore(path: path))  // the store closes as it goes out of scope
        return (try RaftLogStore(path: path), path)
    }

    private func entries(_ range: ClosedRange<LogIndex>, term: Term) -> [Entry] {
        range.map { Entry(term: term, index: $0, data: Array("e\($0)t\(term)".utf8)) }
    }

    @Test func readiesRoundTripThroughRecoveryIncludingTruncationAndCompaction() throws {
        let log = MemoryStorage()
        let (reopened, path) = try writeThenReopen { store in
        func persist(_ ready: Ready) throws {
            try store.write([GroupWrite(group: 7, ready: ready, log: log)])
            log.persist(ready)
        }
        try persist(Ready(hardState: HardState(term: 1, vote: 1, commit: 4), entries: entries(1...10, term: 1)))
        // A new leader replaces 8...10 with a shorter tail of its own term.
        try persist(Ready(hardState: HardState(term: 2, vote: 2, commit: 6), entries: entries(8...8, term: 2)))
        var compaction = GroupWrite(group: 7)
        try log.createSnapshot(at: 5, confState: ConfState(voters: [1, 2, 3]), data: [5])
        try log.compact(through: 3)
        compaction.recordSnapshot(log.snapshot)
        compaction.recordCompaction(through: 3, term: 1)
        try store.write([compaction])
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let recovered = try reopened.recover(group: 7)
        #expect(recovered.lastIndex == 8)
        #expect(recovered.firstIndex == 4)
        #expect(recovered.allEntries() == log.allEntries())
        #expect(recovered.hardState == HardState(term: 2, vote: 2, commit: 6))
        #expect(recovered.snapshot == log.snapshot)
        #expect(try recovered.term(at: 3) == 1)
        #expect(try reopened.groups() == [7])
    }

    @Test func aSnapshotFromTheLeaderReplacesTheLog() throws {
        let (store, path) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = MemoryStorage()
        let first = Ready(hardState: HardState(term: 1, commit: 2), entries: entries(1...5, term: 1))
        try store.write([GroupWrite(group: 1, ready: first, log: log)])
        log.persist(first)
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: 20, term: 3, confState: ConfState(voters: [1, 2])), data: [1])
        let install = Ready(hardState: HardState(term: 3, commit: 20), snapshot: snapshot)
        try store.write([GroupWrite(group: 1, ready: install, log: log)])
        log.persist(install)
        let recovered = try store.recover(group: 1)
        #expect(recovered.lastIndex == 20 && recovered.allEntries().isEmpty)
        #expect(recovered.snapshot == snapshot)
    }

    @Test func manyGroupsShareOneFsyncAndGapsAreReportedAsCorruption() throws {
        let (store, path) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writes = (1...50).map { group -> GroupWrite in
            var write = GroupWrite(group: GroupID(group))
            write.append(entries(1...3, term: 1))
            write.setHardState(HardState(term: 1, commit: 3))
            return write
        }
        try store.write(writes)
        #expect(store.counters.fsyncs == 1)
        #expect(try store.groups() == (1...50).map { GroupID($0) })
        var gap = GroupWrite(group: 99)
        gap.append(entries(5...6, term: 1))
        try store.write([gap])
        #expect(throws: RaftLogStoreError.self) { try store.recover(group: 99) }
    }

    @Test func concurrentCallersAreGroupCommitted() throws {
        let (store, path) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let committer = GroupCommitter(store: store)
        let threads = 8, perThread = 60
        let done = DispatchSemaphore(value: 0)
        for thread in 0..<threads {
            Thread.detachNewThread {
                for index in 1...perThread {
                    var write = GroupWrite(group: GroupID(thread + 1))
                    write.append([Entry(term: 1, index: LogIndex(index), data: [UInt8(index)])])
                    write.setHardState(HardState(term: 1, commit: LogIndex(index)))
                    try! committer.commit([write])
                }
                done.signal()
            }
        }
        for _ in 0..<threads { done.wait() }
        let counters = store.counters
        #expect(counters.groupWrites == threads * perThread)
        #expect(counters.fsyncs < threads * perThread, "callers shared fsyncs: \(counters.fsyncs) for \(counters.groupWrites) writes")
        for group in 1...threads { #expect(try store.recover(group: GroupID(group)).lastIndex == LogIndex(perThread)) }
    }
}
