import Logging
import PeriscopeAPI
import PeriscopeHTTP2
import PeriscopeRaft
import PeriscopeRPC
import Synchronization

/// The messages this node sends to one other node: every group's, on one long-lived
/// `Exchange` stream over the one HTTP/2 connection to that node. What the Raft loop hands
/// over in a round leaves as one batch (so the heartbeats of every group the two nodes
/// share travel together); at most `windowMax` batches are unacknowledged, and the receiver
/// acknowledges a batch only once its Raft loop has taken it, so a slow peer slows its
/// senders instead of growing their queues. Beyond `queuedBytesMax` messages are dropped and
/// their groups told the peer is unreachable: Raft resends what matters.
///
/// While the link is down, messages are dropped the same way and the link reconnects with
/// jittered exponential backoff.
final class PeerLink: Sendable {
    struct Limits: Sendable {
        var windowMax = 8
        var queuedBytesMax = 32 << 20
        var backoffInitial: Duration = .milliseconds(50)
        var backoffMax: Duration = .seconds(2)
    }

    let peer: NodeID
    private let selfID: NodeID
    private let limits: Limits
    private let resolve: @Sendable (NodeID) -> RPCEndpoint?
    private let pool: RPCConnectionPool
    private let dropped: @Sendable (NodeID, [GroupMessage]) -> Void
    /// Called each time a connection attempt or a stream to the peer fails.
    private let lostTouch: @Sendable (NodeID) -> Void
    private let logger: Logger

    private struct State: ~Copyable {
        var queue: [GroupMessage] = []
        var queuedBytes = 0
        var connected = false
        var closed = false
        /// The link's task was cancelled: its doorbell must not be waited on again.
        var cancelled = false
        /// The connection under the stream closed (the peer died, a PING went unanswered):
        /// an idle link waiting for its doorbell must learn it too.
        var connectionLost = false
        /// The connection whose close is being watched (the pool hands the same one out
        /// again until it goes down): watched once, not once per stream.
        var watchedConnection: HTTP2ClientConnection?
        var doorbell: CheckedContinuation<Void, Never>?
        var sentBatches = 0
        var droppedMessages = 0
    }
    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(peer: NodeID, selfID: NodeID, limits: Limits = Limits(), pool: RPCConnectionPool,
         resolve: @escaping @Sendable (NodeID) -> RPCEndpoint?, dropped: @escaping @Sendable (NodeID, [GroupMessage]) -> Void,
         lostTouch: @escaping @Sendable (NodeID) -> Void, logger: Logger) {
        self.peer = peer
        self.selfID = selfID
        self.limits = limits
        self.pool = pool
        self.resolve = resolve
        self.dropped = dropped
        self.lostTouch = lostTouch
        self.logger = logger
    }

    func start() {
        task.withLock { $0 = Task { await self.run() } }
    }

    /// Stops the link; queued messages are dropped (the node is stopping). Does not wait
    /// for the link's task, which ends at its next step.
    func close() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.closed = true
            state.queue = []
            defer { state.doorbell = nil }
            return state.doorbell
        }
        waiter?.resume()
        task.withLock { $0?.cancel() }
    }

    /// Queues messages for the peer. Never blocks: called on the Raft loop's thread.
    func send(_ messages: [GroupMessage]) {
        var refused: [GroupMessage] = []
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.connected, !state.closed else {
                refused = messages
                return nil
            }
            for message in messages {
                let bytes = message.message.byteCount
                if state.queuedBytes + bytes > limits.queuedBytesMax {
                    refused.append(message)
                } else {
                    state.queue.append(message)
                    state.queuedBytes += bytes
                }
            }
            state.droppedMessages += refused.count
            defer { state.doorbell = nil }
            return state.doorbell
        }
        waiter?.resume()
        if !refused.isEmpty { dropped(peer, refused) }
    }

    var isConnected: Bool { state.withLock { $0.connected } }

    /// Connected, and the peer sent something on the connection within `interval` (a
    /// stopped process keeps its connection open but answers nothing, not even PINGs).
    func isResponsive(within interval: Duration) -> Bool {
        state.withLock { $0.connected ? $0.watchedConnection?.activity.heard(within: interval) ?? false : false }
    }

    // MARK: The link's task

    private func run() async {
        var backoff = limits.backoffInitial
        while !Task.isCancelled, !state.withLock({ $0.closed }) {
            guard let endpoint = resolve(peer) else {
                try? await Task.sleep(for: limits.backoffMax)
                continue
            }
            do {
                let client = try await pool.client(for: endpoint)
                let connection = client.connection
                let unwatched = state.withLock { state -> Bool in
                    guard state.watchedConnection !== connection else { return false }
                    state.watchedConnection = connection
                    return true
                }
                if unwatched { connection.closeFuture.whenComplete { [weak self] _ in self?.connectionClosed() } }
                try await client.bidirectionalStreaming(RaftTransportMethods.exchange) { requests, acks in
                    try await exchange(requests: requests, acks: acks, onFirstAck: { backoff = limits.backoffInitial })
                }
            } catch {
                if !state.withLock({ $0.closed }) {
                    logger.debug("Raft link down", metadata: ["peer": "\(peer)", "address": "\(endpoint)", "error": "\(error)"])
                    lostTouch(peer)
                }
            }
            let lost = state.withLock { state in
                state.connected = false
                state.cancelled = false
                state.connectionLost = false
                defer {
                    state.queue = []
                    state.queuedBytes = 0
                }
                return state.queue
            }
            if !lost.isEmpty { dropped(peer, lost) }
            let pause = backoff * Double.random(in: 0.5...1)
            backoff = min(limits.backoffMax, backoff * 2)
            try? await Task.sleep(for: pause)
        }
    }

    /// Rings the doorbell of a link waiting with nothing to send: its stream is gone.
    private func connectionClosed() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.connected else { return nil }
            state.connectionLost = true
            defer { state.doorbell = nil }
            return state.doorbell
        }
        waiter?.resume()
    }

    /// One connection's life: sends batches, reads acknowledgements inline when the window
    /// is full. Returns when the link closes; throws when the stream fails.
    private func exchange(requests: RPCCallWriter<Periscope_V1_RaftMessageBatch>,
                          acks: RPCResponseSequence<Periscope_V1_RaftBatchAck>, onFirstAck: () -> Void) async throws {
        var acknowledgements = acks.makeAsyncIterator()
        var sequence: UInt64 = 0
        var acknowledged: UInt64 = 0
        var sawAck = false
        state.withLock { $0.connected = true }
        while let batch = await nextBatch() {
            while sequence - acknowledged >= UInt64(limits.windowMax) {
                guard let ack = try await acknowledgements.next() else { throw RPCStatus(.unavailable, "the peer ended the stream") }
                guard ack.sequence > acknowledged, ack.sequence <= sequence else {
                    throw RPCStatus(.internalError, "the peer acknowledged batch \(ack.sequence); sent through \(sequence)")
                }
                acknowledged = ack.sequence
                if !sawAck {
                    sawAck = true
                    onFirstAck()
                }
            }
            sequence += 1
            try await requests.send(.with {
                $0.fromNode = selfID
                $0.toNode = peer
                $0.sequence = sequence
                $0.messages = batch.map(RaftWire.encode)
            })
            state.withLock { $0.sentBatches += 1 }
        }
        if state.withLock({ $0.connectionLost }) { throw RPCStatus(.unavailable, "the connection to node \(peer) closed") }
        try await requests.finish()
    }

    /// Everything queued, waiting for the doorbell if nothing is; nil once the link closes
    /// or its task is cancelled.
    private func nextBatch() async -> [GroupMessage]? {
        while true {
            let taken = state.withLock { state -> [GroupMessage]?? in
                if state.closed || state.cancelled || state.connectionLost { return .some(nil) }
                guard !state.queue.isEmpty else { return nil }
                defer {
                    state.queue = []
                    state.queuedBytes = 0
                }
                return state.queue
            }
            if let taken { return taken }
            if Task.isCancelled { return nil }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let ringNow = state.withLock { state in
                        if state.closed || state.cancelled || state.connectionLost || !state.queue.isEmpty { return true }
                        state.doorbell = continuation
                        return false
                    }
                    if ringNow { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { state in
                    state.cancelled = true
                    defer { state.doorbell = nil }
                    return state.doorbell
                }
                waiter?.resume()
            }
        }
    }
}
