import Foundation
import PeriscopeModel
import Synchronization

/// What this node knows of replication between regions, for status, metrics and a forced
/// failover's estimate of what is missing: each stream into a shard it leads, as its
/// subscriber sees it. (Outbox trims and a planned failover's drain ask the other regions
/// for their durable cursors instead: those are replicated state there.)
final class ReplicationState: Sendable {
    /// One stream into one of this node's shards from another region.
    struct Inbound: Sendable, Equatable {
        enum Phase: Sendable, Equatable {
            case connecting(String)
            case streaming
            case backfilling
        }

        var phase: Phase = .connecting("starting")
        /// Through here every write of the source is in this shard's log (or there was none).
        var received: UInt64 = 0
        var sourceApplied: UInt64 = 0
        /// Origin time of the oldest write the source still has for this region (nil: none).
        var oldestPending: Timestamp?
        var oldestPendingByNamespace: [String: Timestamp] = [:]
        var lastContact: ContinuousClock.Instant?
        var batchesApplied = 0
        var writesApplied = 0
        /// Replicated writes that lost to a newer failover version stored here, and stored
        /// writes they replaced (the reconciliation of two homes' writes).
        var incomingLost = 0
        var storedReplaced = 0
        var backfills = 0
    }

    private struct State {
        /// (source region, shard) → the stream's state, on the node leading the shard.
        var inbound: [Key: Inbound] = [:]
    }

    struct Key: Hashable, Sendable {
        var region: String
        var shard: Int
    }

    private let state = Mutex(State())

    func inbound(from region: String, shard: Int) -> Inbound? { state.withLock { $0.inbound[Key(region: region, shard: shard)] } }

    func updateInbound(from region: String, shard: Int, _ change: (inout Inbound) -> Void) {
        state.withLock { change(&$0.inbound[Key(region: region, shard: shard), default: Inbound()]) }
    }

    /// Forgets a stream this node no longer runs (it lost the shard's leadership); its counters stay in the totals.
    func endInbound(from region: String, shard: Int) {
        state.withLock { state in
            guard var stream = state.inbound[Key(region: region, shard: shard)] else { return }
            stream.phase = .connecting("not led by this node")
            stream.lastContact = nil
            state.inbound[Key(region: region, shard: shard)] = stream
        }
    }

    var allInbound: [Key: Inbound] { state.withLock { $0.inbound } }
}

extension ReplicationState.Inbound {
    /// How old the oldest write this region lacks is, as of `now`: 0 when caught up; from the
    /// last contact on when the stream is down (a lower bound: the source may have more).
    func lagSeconds(now: Timestamp, clock: ContinuousClock.Instant = .now) -> Double {
        var lag = oldestPending.map { max(0, Double(now.nanosecondsSinceEpoch - $0.nanosecondsSinceEpoch) / 1e9) } ?? 0
        if phase != .streaming, let lastContact { lag = max(lag, (clock - lastContact).seconds) }
        return lag
    }

    func namespaceLagSeconds(_ namespaceId: String, now: Timestamp) -> Double {
        oldestPendingByNamespace[namespaceId].map { max(0, Double(now.nanosecondsSinceEpoch - $0.nanosecondsSinceEpoch) / 1e9) } ?? 0
    }

    var phaseDescription: String {
        switch phase {
        case .connecting(let why): "connecting: \(why)"
        case .streaming: "streaming"
        case .backfilling: "backfilling"
        }
    }
}
