import Foundation
import PeriscopeModel
import PeriscopeRaft
import PeriscopeRaftLog
import PeriscopeShard
import PeriscopeStorage
import Testing
@testable import PeriscopeNode

/// A snapshot the log recorded but the machine had not installed when the node crashed
/// is installed when the group opens again, from its staged files.
@Suite struct SnapshotInstallTests {
    @Test func anInterruptedInstallIsFinishedWhenTheGroupOpens() throws {
        let root = NSTemporaryDirectory() + "periscope-install-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }

        // The leader's state: 40 executions applied through index 50.
        let source = try Shard.open(at: root + "/source")
        _ = try source.apply((0..<40).map { ReplicationTests.start($0) })
        try source.apply([CommittedEntry(index: 50, data: [])])
        let staging = SnapshotStaging(root: root + "/snapshots")
        try staging.prepare()
        let name = "1000-50-7"
        try FileManager.default.createDirectory(atPath: staging.path(of: name) + ".partial", withIntermediateDirectories: true)
        try staging.complete(name, files: try source.takeSnapshot().write(staging.path(of: name) + ".partial"))

        // The follower persisted the snapshot (its log names the staged files), then crashed
        // before its empty shard took them.
        let store = try RaftLogStore(path: root + "/raft")
        var write = GroupWrite(group: 1000)
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: 50, term: 2, confState: ConfState(voters: [1, 2, 3])),
                                data: Array(name.utf8))
        write.recordSnapshot(snapshot)
        write.recordCompaction(through: 50, term: 2)
        write.setHardState(HardState(term: 2, commit: 50))
        try store.write([write])
        let target = try Shard.open(at: root + "/target")
        #expect(target.appliedIndex == 0)

        let loop = RaftLoop(store: store, tickInterval: .milliseconds(10))
        let group = try ReplicaGroup(id: 1000, node: 1, members: nil, machine: target, store: store, loop: loop,
                                     snapshotDirectory: staging.root)
        #expect(target.appliedIndex == 50)
        #expect(try target.replicaDigest().sha256 == (try source.replicaDigest().sha256))
        #expect(!FileManager.default.fileExists(atPath: staging.path(of: name)), "the staged files are removed once installed")
        #expect(group.status.appliedIndex == 50)
        loop.stop()
        try target.close()
        try source.close()
        try store.close()

        // Without its staged files the same situation is refused, naming both indexes.
        let store2 = try RaftLogStore(path: root + "/raft2")
        try store2.write([write])
        let empty = try Shard.open(at: root + "/empty")
        let loop2 = RaftLoop(store: store2, tickInterval: .milliseconds(10))
        #expect {
            _ = try ReplicaGroup(id: 1000, node: 1, members: nil, machine: empty, store: store2, loop: loop2,
                                 snapshotDirectory: staging.root)
        } throws: { "\($0)".contains("applied only through index 0") && "\($0)".contains("compacted through 50") }
        loop2.stop()
        try empty.close()
        try store2.close()
    }
}
