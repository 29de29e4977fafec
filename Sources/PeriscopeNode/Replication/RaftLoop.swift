import Foundation
import PeriscopeModel
import PeriscopeRaft
import PeriscopeRaftLog
import PeriscopeShard
import Synchronization

/// What the loop needs of a group, whatever its state machine. Called on the loop's thread only.
protocol DrivenGroup: AnyObject, Sendable {
    var id: GroupID { get }
    var hasReady: Bool { get }
    var hasWaitingProposals: Bool { get }
    func tick()
    /// A group whose only voter is this node elects itself at once instead of after an
    /// election timeout.
    func campaignIfAlone()
    func takeReady() -> (ready: Ready, write: GroupWrite)?
    /// The Ready's writes are durable: apply its committed entries, answer their proposers, advance.
    func persisted(_ ready: Ready) throws
    func failWaiting(_ error: ReplicationError)
    /// A message from another replica of the group.
    func step(_ message: Message)
    /// The transport could not deliver a message to `peer` (its link is down or full).
    func reportUnreachable(_ peer: NodeID, snapshotFailed: Bool)
    /// The transport's word on a snapshot it streamed to `peer`.
    func reportSnapshot(to peer: NodeID, delivered: Bool)
    /// The state machine frozen at the group's applied index, for a follower's snapshot.
    func captureSnapshot() throws -> (metadata: SnapshotMetadata, machine: MachineSnapshot)
    /// Steps a snapshot whose files are staged as `name`; true if it will be installed.
    func receiveSnapshot(_ message: Message, named name: String) -> Bool
    var appliedIndex: UInt64 { get }
    /// A quiet group with `peer` among its members ticks again: the transport lost touch
    /// with that node (it may have led the group, or be needed for a quorum).
    func wake(ifMember peer: NodeID)
}

/// Where the loop's outgoing messages go: the transport between nodes. `send` is called on
/// the loop's thread and must not block.
protocol RaftMessageSender: AnyObject, Sendable {
    func send(_ messages: [GroupMessage])
}

/// The thread that drives every Raft group of a node. Each round takes the Ready of every
/// group that has one and persists them all in one WriteBatch with one fsync (group commit:
/// under load one fsync carries many proposals of many groups), then applies the committed
/// entries and answers their proposers. Ticks every `tickInterval`.
///
/// Work from other threads (proposals, new groups) is queued and run at the top of a round,
/// so a group's Raft state is only ever touched here. **Blocking** by design: it owns its
/// thread and never runs on an event loop or the cooperative pool.
public final class RaftLoop: @unchecked Sendable {
    // @unchecked: `queue`, `phase` and `failure` are guarded by `condition`; `groups` and
    // `nextTick` belong to the loop's thread.
    private enum Phase { case created, running, stopping, stopped }

    public let store: RaftLogStore
    /// While it says the disk is low, appends from other leaders are dropped and proposals refused.
    public let diskGuard: DiskSpaceGuard?
    public let tickInterval: Duration
    /// Rounds that finish their proposals after `stop()` is called, before the rest fail.
    public let drainRoundsMax: Int
    private let condition = NSCondition()
    private var queue: [@Sendable () -> Void] = []
    private var phase = Phase.created
    private var failure: ReplicationError?
    private var groups: [any DrivenGroup] = []
    private var groupsByID: [GroupID: any DrivenGroup] = [:]
    private var sender: (any RaftMessageSender)?
    private let finished = DispatchSemaphore(value: 0)

    public init(store: RaftLogStore, diskGuard: DiskSpaceGuard? = nil, tickInterval: Duration = .milliseconds(100),
                drainRoundsMax: Int = 100) {
        self.store = store
        self.diskGuard = diskGuard
        self.tickInterval = tickInterval
        self.drainRoundsMax = drainRoundsMax
    }

    /// Why the loop stopped on its own, if it did (a storage failure).
    public var stoppedBecause: ReplicationError? { condition.withLock { failure } }

    /// Sets where messages to other nodes go. Before `start`.
    func attach(_ sender: some RaftMessageSender) {
        condition.withLock {
            precondition(phase == .created, "attach the transport before starting the loop")
            self.sender = sender
        }
    }

    public func start() {
        condition.withLock {
            precondition(phase == .created, "a RaftLoop starts once")
            phase = .running
        }
        let thread = Thread { [self] in run() }
        thread.name = "periscope-raft"
        thread.start()
    }

    /// Stops taking work, lets proposals already in the logs finish (for at most
    /// `drainRoundsMax` rounds), fails the rest with `.stopped`, and waits for the thread.
    public func stop() {
        let wasRunning = condition.withLock {
            let running = phase == .running
            if phase == .running || phase == .created { phase = .stopping }
            condition.broadcast()
            return running
        }
        if wasRunning { finished.wait() }
    }

    func add(_ group: some DrivenGroup) {
        submit(orElse: { _ in }) { [self] in
            groups.append(group)
            groupsByID[group.id] = group
            group.campaignIfAlone()
        }
    }

    /// Steps messages from another node into their groups at the top of the next round;
    /// `taken` is called once they are (the transport acknowledges the batch then), or with
    /// the reason they never will be. Messages for a group this node does not host are dropped.
    func deliver(_ messages: [GroupMessage], taken: @escaping @Sendable (ReplicationError?) -> Void) {
        submit(orElse: { taken($0) }) { [self] in
            // Low on disk: entries from other leaders are dropped, as a lossy link would
            // (their leaders send them again); everything else (votes, heartbeats) is stepped.
            let low = diskGuard?.isLow == true
            for message in messages where !(low && (message.message.kind == .append || message.message.kind == .snapshot)) {
                groupsByID[message.group]?.step(message.message)
            }
            taken(nil)
        }
    }

    /// The transport dropped these messages to `peer`: their groups probe the peer again
    /// (and a snapshot that was not delivered is retried).
    func undelivered(_ messages: [GroupMessage], to peer: NodeID) {
        submit(orElse: { _ in }) { [self] in
            var reported: Set<GroupID> = []
            for message in messages {
                let isSnapshot = message.message.kind == .snapshot
                guard reported.insert(message.group).inserted || isSnapshot else { continue }
                groupsByID[message.group]?.reportUnreachable(peer, snapshotFailed: isSnapshot)
            }
        }
    }

    /// Runs `body` on the loop's thread with group `id` (nil if this node does not host it)
    /// at the top of the next round, and returns what it returns.
    func withGroup<T: Sendable>(_ id: GroupID, _ body: @escaping @Sendable ((any DrivenGroup)?) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit(orElse: { continuation.resume(throwing: $0) }) { [self] in
                continuation.resume(with: Result { try body(groupsByID[id]) })
            }
        }
    }

    /// The transport lost its connection to `peer`: quiet groups it belongs to tick again, so
    /// a dead leader is replaced and a cut-off leader steps down.
    func peerUnreachable(_ peer: NodeID) {
        submit(orElse: { _ in }) { [self] in
            for group in groups { group.wake(ifMember: peer) }
        }
    }

    /// A snapshot the transport streamed to `peer` arrived and was taken (or failed).
    func reportSnapshot(group: GroupID, to peer: NodeID, delivered: Bool) {
        submit(orElse: { _ in }) { [self] in groupsByID[group]?.reportSnapshot(to: peer, delivered: delivered) }
    }

    /// Runs `work` on the loop's thread at the top of the next round, or calls `orElse` with
    /// why it never will (the loop stopped).
    func submit(orElse refuse: (ReplicationError) -> Void, _ work: @escaping @Sendable () -> Void) {
        condition.lock()
        guard phase == .created || phase == .running else {
            let reason = failure ?? .stopped
            condition.unlock()
            return refuse(reason)
        }
        queue.append(work)
        condition.signal()
        condition.unlock()
    }

    // MARK: The loop's thread

    private func run() {
        var nextTick = ContinuousClock.now + tickInterval
        var drainRounds = 0
        while true {
            let busy = groups.contains { $0.hasReady }
            condition.lock()
            if queue.isEmpty, phase == .running, !busy {
                let wait = nextTick - ContinuousClock.now
                if wait > .zero { _ = condition.wait(until: Date(timeIntervalSinceNow: wait.seconds)) }
            }
            let work = queue
            queue = []
            let stopping = phase == .stopping
            condition.unlock()

            for item in work { item() }
            let now = ContinuousClock.now
            if now >= nextTick {
                for group in groups { group.tick() }
                nextTick = max(nextTick + tickInterval, now)
            }
            do {
                try round()
            } catch {
                let reason = ReplicationError.storageFailed("\(error)")
                condition.withLock {
                    failure = reason
                    phase = .stopping
                }
                finish(failing: reason)
                return
            }
            if stopping {
                drainRounds += 1
                let idle = !groups.contains { $0.hasReady || $0.hasWaitingProposals }
                if idle || drainRounds >= drainRoundsMax {
                    finish(failing: .stopped)
                    return
                }
            }
        }
    }

    /// One group commit: every group's Ready, persisted together, then applied.
    private func round() throws {
        let readies = groups.compactMap { group in group.takeReady().map { (group, $0.ready, $0.write) } }
        guard !readies.isEmpty else { return }
        // A leader's appends and heartbeats promise nothing about this node's disk: they
        // leave before the fsync, so followers write in parallel with the leader.
        send(readies.flatMap { group, ready, _ in ready.messages.map { GroupMessage(group: group.id, message: $0) } })
        let writes = readies.map(\.2).filter { !$0.isEmpty }
        if !writes.isEmpty { try store.write(writes) }
        // Acknowledgements and votes only once the disk backs them.
        send(readies.flatMap { group, ready, _ in ready.messagesAfterPersist.map { GroupMessage(group: group.id, message: $0) } })
        for (group, ready, _) in readies { try group.persisted(ready) }
    }

    private func send(_ messages: [GroupMessage]) {
        guard !messages.isEmpty else { return }
        guard let sender else {
            preconditionFailure("a group with other members produced messages, but the loop has no transport")
        }
        sender.send(messages)
    }

    private func finish(failing reason: ReplicationError) {
        let leftover = condition.withLock {
            phase = .stopped
            defer { queue = [] }
            return queue
        }
        // Work queued after the last round (proposals) runs against stopped groups: they
        // must still be answered, so run it, then fail everything still waiting at once.
        for item in leftover { item() }
        for group in groups { group.failWaiting(reason) }
        groups = []  // groups hold the loop: let both go
        groupsByID = [:]
        sender = nil
        finished.signal()
    }
}
