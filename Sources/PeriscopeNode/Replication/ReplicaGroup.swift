import PeriscopeRaft
import PeriscopeRaftLog
import Foundation
import PeriscopeShard
import Synchronization

/// A proposal that was committed and applied: where it landed and what applying it said.
public struct Applied<Outcome: Sendable>: Sendable {
    public var index: UInt64
    public var outcome: Outcome
}

/// What other threads may read of a group: published by the loop after each round.
public struct ReplicaStatus: Sendable, Equatable {
    public var role: Role
    public var term: UInt64
    public var leader: UInt64?
    public var committedIndex: UInt64
    public var appliedIndex: UInt64
    /// The first entry the log still holds (compaction drops those before it).
    public var firstLogIndex: UInt64
    public var voters: Set<UInt64> = []
    public var learners: Set<UInt64> = []
    /// On a leader: how far each member's log is known to match this one's.
    public var matched: [UInt64: UInt64] = [:]
    public var lastLogIndex: UInt64 = 0
    /// On a leader: the member leadership is being handed to.
    public var transferringTo: UInt64?
    /// The group is idle and this replica stopped ticking (`RaftTuning.quiesceAfterTicks`).
    public var quiesced = false
}

/// One Raft group on this node and the state machine it replicates into. Its Raft node,
/// in-memory log and waiting proposals belong to the `RaftLoop`'s thread; other threads
/// only call `propose` (which hands the work to that thread) and read `status`.
public final class ReplicaGroup<Machine: ReplicatedStateMachine>: @unchecked Sendable {
    // @unchecked: `node`, `log` and `waiting` are touched only on the loop's thread; the
    // rest is immutable or a Mutex.
    public let id: GroupID
    public let machine: Machine
    private let loop: RaftLoop
    private let node: RaftNode
    private let log: MemoryStorage
    private let selfID: NodeID
    private let tuning: RaftTuning
    private var waiting: [LogIndex: (term: Term, continuation: CheckedContinuation<Applied<Machine.Outcome>, any Error>)] = [:]
    /// Membership changes proposed here, answered with the membership after them.
    private var waitingChanges: [LogIndex: (term: Term, continuation: CheckedContinuation<(index: UInt64, confState: ConfState), any Error>)] = [:]
    /// Reads waiting for their ReadIndex, by request id.
    private var reads: [UInt64: CheckedContinuation<LogIndex, any Error>] = [:]
    private var nextReadID: UInt64 = 1
    private let published: Mutex<ReplicaStatus>
    private let onApplied: (@Sendable () -> Void)?
    private let staging: SnapshotStaging?

    /// Opens group `id` on this node: recovers its log from `store`, or creates it. A new
    /// group with `members` starts with those voters (its log starts with a snapshot of that
    /// membership at index 1); one without (nil: this node joins a running region) starts
    /// empty, a member of nothing, until its leader adds it and sends it a snapshot. The
    /// machine's applied index tells Raft where to resume delivering entries; a snapshot
    /// whose install a crash interrupted is installed again from `snapshotDirectory`, where
    /// received snapshots wait (`SnapshotStaging`; without one, the group takes none).
    public init(id: GroupID, node selfID: NodeID, members: Set<NodeID>?, machine: Machine, store: RaftLogStore, loop: RaftLoop,
                snapshotDirectory: String? = nil, tuning: RaftTuning = RaftTuning(),
                onApplied: (@Sendable () -> Void)? = nil) throws {
        let staging = snapshotDirectory.map(SnapshotStaging.init(root:))
        precondition(members?.contains(selfID) ?? true, "node \(selfID) must be one of group \(id)'s members")
        precondition(tuning.compactAfterEntries > tuning.compactionKeepsEntries && tuning.compactionKeepsEntries >= 0,
                     "compactAfterEntries must exceed compactionKeepsEntries")
        let log: MemoryStorage
        if try store.groups().contains(id) {
            log = try store.recover(group: id)
        } else if members == nil {
            log = MemoryStorage()
        } else {
            let genesis = Snapshot(metadata: SnapshotMetadata(index: 1, term: 1, confState: ConfState(voters: members!)))
            log = MemoryStorage(snapshot: genesis, hardState: HardState(term: 1, commit: 1))
            var write = GroupWrite(group: id)
            write.recordSnapshot(genesis)
            write.recordCompaction(through: 1, term: 1)
            write.setHardState(HardState(term: 1, commit: 1))
            try store.write([write])
        }
        let (hardState, _) = log.initialState()
        try Self.finishInterruptedInstall(of: id, log: log, machine: machine, staging: staging)
        let applied = machine.appliedIndex
        guard applied <= hardState.commit else {
            throw ReplicationError.storageFailed("group \(id): the state machine applied index \(applied), past the log's commit "
                + "index \(hardState.commit): the log store and the state machine are not from the same node")
        }
        // The log's snapshot is the genesis one, one this replica took to compact (through
        // what its machine had made durable), or one received and installed above: a
        // machine that has not applied through it can never get those entries back.
        let snapshotIndex = log.snapshot.metadata.index
        guard applied >= snapshotIndex || snapshotIndex <= 1 else {
            throw ReplicationError.storageFailed("group \(id): the state machine has applied only through index \(applied), but the "
                + "log was compacted through \(snapshotIndex): the entries between are gone; restore the shard's data "
                + "from a replica or a backup of this node")
        }
        let config = RaftConfig(id: selfID, electionTicks: tuning.electionTicks, heartbeatTicks: tuning.heartbeatTicks,
                                proposalBytesMax: tuning.proposalBytesMax, uncommittedBytesMax: tuning.uncommittedBytesMax,
                                appliedIndex: max(applied, log.snapshot.metadata.index), quiesceAfterTicks: tuning.quiesceAfterTicks)
        self.id = id
        self.machine = machine
        self.loop = loop
        self.selfID = selfID
        self.tuning = tuning
        self.onApplied = onApplied
        self.staging = staging
        self.log = log
        node = RaftNode(config: config, storage: log, random: SystemRandomNumberGenerator())
        published = Mutex(ReplicaStatus(role: .follower, term: hardState.term, leader: nil, committedIndex: hardState.commit,
                                        appliedIndex: applied, firstLogIndex: log.firstIndex))
        loop.add(self)
    }

    public var status: ReplicaStatus { published.withLock { $0 } }

    /// A received snapshot the log records but the machine has not installed (a crash
    /// between persisting it and installing it): install it now, from its staged files.
    private static func finishInterruptedInstall(of id: GroupID, log: MemoryStorage, machine: Machine,
                                                 staging: SnapshotStaging?) throws {
        let snapshot = log.snapshot
        guard machine.appliedIndex < snapshot.metadata.index, !snapshot.data.isEmpty, let staging,
              let name = String(bytes: snapshot.data, encoding: .utf8),
              FileManager.default.fileExists(atPath: staging.path(of: name)) else { return }
        try machine.installSnapshot(files: try staging.manifest(of: name), in: staging.path(of: name), at: snapshot.metadata.index)
        staging.remove(name)
    }

    /// The commit index the group's leader confirmed it still leads at (ReadIndex: a
    /// heartbeat round a quorum answered, asked of the leader by a follower). Everything
    /// acknowledged before the call is at or below it, so a read that waits until the
    /// machine has applied it is linearizable, whichever replica serves it. A replica cut
    /// off from a quorum never gets an answer: the call fails after `timeout`.
    public func readIndex(timeout: Duration) async throws -> LogIndex {
        let requestID = ReadRequestID()
        let index = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<LogIndex, any Error>) in
            loop.submit(orElse: { continuation.resume(throwing: $0) }) { [self] in
                let id = nextReadID
                nextReadID += 1
                requestID.value = id
                do throws(RaftError) {
                    try node.readIndex(requestID: id)
                    reads[id] = continuation
                } catch {
                    continuation.resume(throwing: replicationError(error))
                }
            }
            let group = self
            Task {
                try? await Task.sleep(for: timeout)
                group.loop.submit(orElse: { _ in }) {
                    guard let id = requestID.value, let waiter = group.reads.removeValue(forKey: id) else { return }
                    waiter.resume(throwing: ReplicationError.noQuorum(group: group.id, waited: timeout))
                }
            }
        }
        return index
    }

    /// Asks the leader (this replica) to hand leadership to `target` once it has caught up.
    public func transferLeadership(to target: NodeID) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            loop.submit(orElse: { continuation.resume(throwing: $0) }) { [self] in
                do throws(RaftError) {
                    try node.transferLeadership(to: target)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: replicationError(error))
                }
            }
        }
    }

    /// Proposes `data` and returns once it is committed (fsync'd by a majority) and applied,
    /// with the machine's outcome. Throws `ReplicationError`.
    public func propose(_ data: [UInt8]) async throws -> Applied<Machine.Outcome> {
        if let refusal = loop.diskGuard?.refusal() { throw refusal }
        return try await withCheckedThrowingContinuation { continuation in
            loop.submit(orElse: { continuation.resume(throwing: $0) }) { [self] in
                do throws(RaftError) {
                    let entry = try node.propose(data)
                    waiting[entry.index] = (entry.term, continuation)
                } catch {
                    continuation.resume(throwing: replicationError(error))
                }
            }
        }
    }
}

extension ReplicaGroup {
    /// Proposes one membership change on the leader (this replica) and returns, once it is
    /// committed and applied, the group's membership after it. Raft takes one change at a
    /// time: another while one is pending is refused.
    public func proposeConfChange(_ change: ConfChange) async throws -> (index: UInt64, confState: ConfState) {
        if let refusal = loop.diskGuard?.refusal() { throw refusal }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(index: UInt64, confState: ConfState), any Error>) in
            loop.submit(orElse: { continuation.resume(throwing: $0) }) { [self] in
                do throws(RaftError) {
                    let entry = try node.proposeConfChange(change)
                    waitingChanges[entry.index] = (entry.term, continuation)
                } catch {
                    continuation.resume(throwing: replicationError(error))
                }
            }
        }
    }

    /// What a proposer is told when Raft refuses its request.
    func replicationError(_ error: RaftError) -> ReplicationError {
        if case .notLeader(let leader) = error { return .notLeader(group: id, leader: leader) }
        // Transient, unlike the other refusals: a client told RESOURCE_EXHAUSTED gave up
        // during every leader balancing and disk hand-off (the chaos harness's histories).
        if case .transferInProgress(let target) = error { return .transferring(group: id, to: target) }
        return .refused(group: id, reason: error.description)
    }
}

/// Raft timing and limits for the groups of a node.
public struct RaftTuning: Sendable {
    public var electionTicks = 10
    public var heartbeatTicks = 1
    public var proposalBytesMax = 4 << 20
    public var uncommittedBytesMax = 64 << 20
    /// The log is compacted once this many applied entries sit in it (its memory and its
    /// redelivery after a restart are bounded by about this much)...
    public var compactAfterEntries = 10_000
    /// ...keeping this many of them, for followers slightly behind (one further behind gets
    /// a snapshot).
    public var compactionKeepsEntries = 1_000
    /// A group idle this many ticks goes quiet: no heartbeats until something happens, or
    /// until this node loses touch with one of its members (0: never).
    public var quiesceAfterTicks = 30
    public init() {}
}

extension ReplicaGroup: DrivenGroup {
    var isAlone: Bool { node.confState.voters == [selfID] && node.confState.learners.isEmpty }
    var hasReady: Bool { node.hasReady }
    var hasWaitingProposals: Bool { !waiting.isEmpty || !waitingChanges.isEmpty }

    func tick() { node.tick() }

    func step(_ message: Message) { node.step(message) }

    func reportUnreachable(_ peer: NodeID, snapshotFailed: Bool) {
        node.reportUnreachable(peer)
        if snapshotFailed { node.reportSnapshot(to: peer, delivered: false) }
    }

    func campaignIfAlone() {
        if isAlone, node.role != .leader { node.campaign() }
    }

    func takeReady() -> (ready: Ready, write: GroupWrite)? {
        guard node.hasReady else { return nil }
        let ready = node.ready()
        return (ready, GroupWrite(group: id, ready: ready, log: log))
    }

    func persisted(_ ready: Ready) throws {
        log.persist(ready)
        if let snapshot = ready.snapshot { try install(snapshot) }
        // Membership changes reach the machine as entries without data, so its applied index
        // is always the group's (a snapshot taken between rounds is exactly at it).
        let entries = ready.committedEntries.map { CommittedEntry(index: $0.index, data: $0.kind == .normal ? $0.data : []) }
        let outcomes = entries.isEmpty ? [:] : try machine.apply(entries)
        if !entries.isEmpty { onApplied?() }
        for entry in ready.committedEntries {
            guard let proposal = waiting.removeValue(forKey: entry.index) else { continue }
            if proposal.term == entry.term, let outcome = outcomes[entry.index] {
                proposal.continuation.resume(returning: Applied(index: entry.index, outcome: outcome))
            } else {
                proposal.continuation.resume(throwing: ReplicationError.lost(group: id, index: entry.index))
            }
        }
        for read in ready.readStates {
            reads.removeValue(forKey: read.requestID)?.resume(returning: read.index)
        }
        node.advance(ready)
        // Answered after `advance`, which applies the change to the membership.
        for entry in ready.committedEntries where entry.kind == .confChange {
            guard let change = waitingChanges.removeValue(forKey: entry.index) else { continue }
            if change.term == entry.term {
                change.continuation.resume(returning: (entry.index, node.confState))
            } else {
                change.continuation.resume(throwing: ReplicationError.lost(group: id, index: entry.index))
            }
        }
        if node.role != .leader {
            // Deposed (a partition, a transfer): a new leader may still commit these or
            // replace them; their proposers should not wait to find out.
            failProposals(ReplicationError.leadershipLost(group: id))
        }
        try compactIfDue()
        publish()
    }

    /// What other threads may read, as of now.
    private func publish() {
        let raft = node.status
        published.withLock {
            $0 = ReplicaStatus(role: node.role, term: node.term, leader: node.leader,
                               committedIndex: node.committedIndex, appliedIndex: node.appliedIndex,
                               firstLogIndex: log.firstIndex, voters: raft.confState.voters, learners: raft.confState.learners,
                               matched: raft.progress.mapValues(\.match), lastLogIndex: raft.lastIndex,
                               transferringTo: raft.leadTransferee, quiesced: node.isQuiesced)
        }
    }

    /// Compacts the log once `compactAfterEntries` applied entries sit in it: first the
    /// machine makes its applied state durable (the shard's writes are not fsync'd), then
    /// a snapshot record at that index (membership only: a follower needing the data gets
    /// the machine's files, frozen when they are sent: `SnapshotSender`) and the compaction
    /// point are persisted, and the entries before `compactionKeepsEntries` from it are
    /// dropped, on disk and in memory.
    private func compactIfDue() throws {
        let applied = node.appliedIndex
        guard applied >= log.firstIndex, applied - log.firstIndex + 1 >= LogIndex(tuning.compactAfterEntries) else { return }
        let durable = min(try machine.syncApplied(), applied)
        guard durable > log.snapshot.metadata.index, durable >= LogIndex(tuning.compactionKeepsEntries) else { return }
        let through = durable - LogIndex(tuning.compactionKeepsEntries)
        guard through >= log.firstIndex else { return }
        do {
            try log.createSnapshot(at: durable, confState: node.confState, data: [])
            var write = GroupWrite(group: id)
            write.recordSnapshot(log.snapshot)
            write.recordCompaction(through: through, term: try log.term(at: through))
            try loop.store.write([write])
            try log.compact(through: through)
        } catch {
            throw ReplicationError.storageFailed("group \(id): compacting the log through \(through): \(error)")
        }
    }

    /// Installs a snapshot received from the leader (its log record is durable already):
    /// the machine takes the staged files, which are removed once it has them durably.
    private func install(_ snapshot: Snapshot) throws {
        guard let staging, let name = String(bytes: snapshot.data, encoding: .utf8), !name.isEmpty else {
            throw ReplicationError.storageFailed("group \(id): a snapshot at index \(snapshot.metadata.index) arrived without its files")
        }
        do {
            try machine.installSnapshot(files: try staging.manifest(of: name), in: staging.path(of: name), at: snapshot.metadata.index)
        } catch {
            throw ReplicationError.storageFailed("group \(id): installing the snapshot at index \(snapshot.metadata.index): \(error)")
        }
        staging.remove(name)
        onApplied?()
    }

    /// Freezes the machine for a follower that needs a snapshot. Called between rounds, when
    /// the machine has applied exactly what the group has: the metadata (index, term and
    /// membership) describes that state, whatever older snapshot the Raft core asked to send.
    func captureSnapshot() throws -> (metadata: SnapshotMetadata, machine: MachineSnapshot) {
        let frozen = try machine.takeSnapshot()
        let index = node.appliedIndex
        guard frozen.appliedIndex <= index, let term = node.term(at: index) else {
            throw ReplicationError.refused(group: id, reason: "the machine applied \(frozen.appliedIndex), the group \(index): "
                + "no snapshot can describe both")
        }
        return (SnapshotMetadata(index: index, term: term, confState: node.confState), frozen)
    }

    /// Steps a snapshot whose files are staged as `name`. True if Raft takes it (it is
    /// installed with the next Ready); false if the log already covers it, and then the
    /// staged files are removed here.
    func receiveSnapshot(_ message: Message, named name: String) -> Bool {
        node.step(message)
        let taken = message.snapshot.map { node.pendingSnapshotIndex == $0.metadata.index } ?? false
        if !taken { staging?.remove(name) }
        return taken
    }

    func reportSnapshot(to peer: NodeID, delivered: Bool) { node.reportSnapshot(to: peer, delivered: delivered) }

    func wake(ifMember peer: NodeID) {
        if node.isQuiesced, node.confState.members.contains(peer) { node.wake() }
    }

    var appliedIndex: UInt64 { node.appliedIndex }

    /// Fails every proposal and membership change waiting here.
    private func failProposals(_ error: ReplicationError) {
        let failed = waiting
        waiting = [:]
        for proposal in failed.values { proposal.continuation.resume(throwing: error) }
        let failedChanges = waitingChanges
        waitingChanges = [:]
        for change in failedChanges.values { change.continuation.resume(throwing: error) }
    }

    func failWaiting(_ error: ReplicationError) {
        failProposals(error)
        let failedReads = reads
        reads = [:]
        for read in failedReads.values { read.resume(throwing: error) }
    }
}

/// The id a read got on the loop's thread, for its timeout (which runs there too).
private final class ReadRequestID: @unchecked Sendable {
    // @unchecked: written and read only on the loop's thread.
    var value: UInt64?
}
