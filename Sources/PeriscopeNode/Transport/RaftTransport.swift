import Logging
import NIOCore
import PeriscopeAPI
import PeriscopeHTTP2
import PeriscopeRaft
import PeriscopeRaftLog
import PeriscopeRPC
import Synchronization

/// Raft between nodes: a `PeerLink` per other node for what this node sends, and the
/// `Exchange` handler for what they send it. Peers are found by node id in an address book
/// the region's membership fills.
final class RaftTransport: RaftMessageSender, Sendable {
    let selfID: NodeID
    let pool: RPCConnectionPool
    private let loop: RaftLoop
    private let logger: Logger
    private let limits: PeerLink.Limits
    private let peers = PeerBook()
    /// Nil once closed.
    private let links = Mutex<[NodeID: PeerLink]?>([:])
    private let stats = Mutex(Statistics())

    struct Statistics: Sendable {
        var batchesReceived = 0
        var messagesReceived = 0
        var messagesDropped = 0
    }

    /// Peer connections notice a dead or cut-off node within about two seconds (an HTTP/2
    /// PING unanswered), so a link blocked on a full window fails over and reconnects.
    static let peerConnection: HTTP2ConnectionConfiguration = {
        var configuration = HTTP2ConnectionConfiguration()
        configuration.keepaliveInterval = .seconds(1)
        configuration.keepaliveTimeout = .seconds(2)
        configuration.idleTimeout = nil
        return configuration
    }()

    let snapshots: SnapshotSender
    private let snapshotReceiver: SnapshotReceiver

    /// `localHost`: the address connections to peers leave from (`NodeConfiguration.peerSourceHost`).
    init(selfID: NodeID, loop: RaftLoop, staging: SnapshotStaging, logger: Logger, limits: PeerLink.Limits = PeerLink.Limits(),
         localHost: String? = nil) {
        self.selfID = selfID
        self.loop = loop
        self.logger = logger
        self.limits = limits
        let pool = RPCConnectionPool(configuration: Self.peerConnection, localHost: localHost)
        self.pool = pool
        let peers = self.peers
        snapshots = SnapshotSender(selfID: selfID, loop: loop, pool: pool, staging: staging,
                                   resolve: { node in peers.addresses.withLock { $0[node] } }, logger: logger)
        snapshotReceiver = SnapshotReceiver(selfID: selfID, loop: loop, staging: staging,
                                            isIsolated: { node in peers.isolated.withLock { $0.contains(node) } }, logger: logger)
    }

    /// The region's other members, as its map lists them: their addresses are recorded,
    /// and the links to nodes no longer listed are closed.
    func setPeers(_ members: [RegionMap.Member]) {
        var endpoints: [NodeID: RPCEndpoint] = [:]
        for member in members {
            guard let endpoint = try? RPCEndpoint(member.address) else {
                logger.error("a region member's address is not host:port", metadata: ["node": "\(member.nodeID)", "address": "\(member.address)"])
                continue
            }
            endpoints[member.nodeID] = endpoint
        }
        let departed = peers.addresses.withLock { addresses -> [NodeID] in
            let gone = addresses.keys.filter { endpoints[$0] == nil }
            addresses = endpoints
            return gone
        }
        let closing = links.withLock { links in departed.compactMap { links?.removeValue(forKey: $0) } }
        for link in closing { link.close() }
    }

    func address(of node: NodeID) -> RPCEndpoint? { peers.addresses.withLock { $0[node] } }

    /// The other members of the region.
    var peerIDs: [NodeID] { peers.addresses.withLock { $0.keys.sorted() } }

    var statistics: Statistics { stats.withLock { $0 } }

    /// Snapshots received from leaders and installed since the node started.
    var snapshotsInstalled: Int { snapshotReceiver.installed }

    /// Whether the link to `node` has a stream up.
    func isConnected(to node: NodeID) -> Bool { links.withLock { $0?[node]?.isConnected ?? false } }

    /// Connected to `node`, which sent something within `interval` (keepalive PINGs every
    /// second make a live peer heard at least that often).
    func isResponsive(_ node: NodeID, within interval: Duration) -> Bool {
        links.withLock { $0?[node]?.isResponsive(within: interval) ?? false }
    }

    /// Cuts this node off from `nodes` (empty: heals): their Raft messages are dropped both
    /// ways and their calls refused. Fault injection for tests and chaos runs.
    func isolate(from nodes: Set<NodeID>) {
        peers.isolated.withLock { $0 = nodes }
        for peer in nodes {
            loop.peerUnreachable(peer)
            if let endpoint = address(of: peer) { Task { [pool] in await pool.discardAll(for: endpoint) } }
        }
    }

    var isolatedFrom: Set<NodeID> { peers.isolated.withLock { $0 } }

    func isIsolated(from peer: NodeID) -> Bool { peers.isolated.withLock { $0.contains(peer) } }

    // MARK: RaftMessageSender (the loop's thread)

    func send(_ messages: [GroupMessage]) {
        var byPeer: [NodeID: [GroupMessage]] = [:]
        for message in messages { byPeer[message.message.to, default: []].append(message) }
        for (peer, messages) in byPeer {
            guard peer != selfID else { preconditionFailure("a group addressed a message to its own node: \(messages[0].message)") }
            // A snapshot's data streams on a call of its own, never behind the link's batches.
            let (snapshots, ordinary) = messages.partitioned { $0.message.kind == .snapshot }
            if isIsolated(from: peer) {
                dropped(messages, to: peer)
                continue
            }
            for snapshot in snapshots { self.snapshots.send(snapshot) }
            if !ordinary.isEmpty { link(to: peer)?.send(ordinary) }
        }
    }

    private func link(to peer: NodeID) -> PeerLink? {
        links.withLock { links in
            guard links != nil else { return nil }
            if let link = links![peer] { return link }
            let link = PeerLink(peer: peer, selfID: selfID, limits: limits, pool: pool,
                                resolve: { [weak self] node in self?.address(of: node) },
                                dropped: { [weak self] peer, messages in self?.dropped(messages, to: peer) },
                                lostTouch: { [loop] peer in loop.peerUnreachable(peer) }, logger: logger)
            links![peer] = link
            link.start()
            return link
        }
    }

    /// Closes every link and connection. Called once the Raft loop has stopped.
    private func dropped(_ messages: [GroupMessage], to peer: NodeID) {
        stats.withLock { $0.messagesDropped += messages.count }
        loop.undelivered(messages, to: peer)
    }

    func closeNow() {
        let all = links.withLock { links in
            defer { links = nil }
            return Array(links?.values ?? [:].values)
        }
        for link in all { link.close() }
        Task { [pool] in await pool.close() }
    }

    // MARK: Receiving

    func register(in router: inout RPCRouter) {
        snapshotReceiver.register(in: &router)
        router.bidirectionalStreaming(RaftTransportMethods.exchange) { [self] batches, acks, _ in
            for try await batch in batches {
                guard !isIsolated(from: batch.fromNode) else {
                    throw RPCStatus(.unavailable, "node \(selfID) is cut off from node \(batch.fromNode) (fault injection)")
                }
                guard batch.toNode == selfID else {
                    throw RPCStatus(.failedPrecondition, "this is node \(selfID), not node \(batch.toNode): the sender's address "
                        + "book is stale")
                }
                var messages: [GroupMessage] = []
                messages.reserveCapacity(batch.messages.count)
                for (position, wire) in batch.messages.enumerated() {
                    do {
                        let message = try RaftWire.decode(wire)
                        guard message.message.to == selfID, message.message.from == batch.fromNode else {
                            throw RaftWire.Invalid(description: "it is from node \(message.message.from) to node "
                                + "\(message.message.to), on a link from node \(batch.fromNode) to node \(selfID)")
                        }
                        messages.append(message)
                    } catch {
                        throw RPCStatus(.invalidArgument, "batch \(batch.sequence), message \(position): \(error)")
                    }
                }
                stats.withLock {
                    $0.batchesReceived += 1
                    $0.messagesReceived += messages.count
                }
                // Acknowledged once the loop took the batch: the sender's window is what
                // bounds this node's queue of messages from it.
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    loop.deliver(messages) { failure in
                        if let failure { continuation.resume(throwing: failure) } else { continuation.resume() }
                    }
                }
                try await acks.send(.with { $0.sequence = batch.sequence })
            }
        }
    }
}

/// Where the other nodes listen, and which of them this node is cut off from by fault
/// injection (tests and chaos only); shared with the snapshot paths.
final class PeerBook: Sendable {
    let addresses = Mutex<[NodeID: RPCEndpoint]>([:])
    let isolated = Mutex<Set<NodeID>>([])
}

extension Array {
    /// The elements that satisfy `predicate`, and the others, each in order.
    func partitioned(by predicate: (Element) -> Bool) -> (matching: [Element], others: [Element]) {
        var matching: [Element] = []
        var others: [Element] = []
        for element in self {
            if predicate(element) { matching.append(element) } else { others.append(element) }
        }
        return (matching, others)
    }
}
