import Foundation
import Logging
import PeriscopeAPI
import PeriscopeModel
import PeriscopeRaft
import PeriscopeRPC
import Synchronization

/// Measures this node's wall clock against every other member's, once per
/// `clockCheckInterval` (a `ReadClock` call each, timed by the monotonic clock), and gives
/// the region's time to what stamps it into replicated state: retention horizons and delete
/// tombstones (`ClockAgreement` says why and how). Logs when the node's clock leaves or
/// rejoins the region's; `/metrics` has `periscope_clock_agreed` and
/// `periscope_clock_correction_seconds`.
final class ClockMonitor: Sendable {
    private let agreement: Mutex<ClockAgreement>
    private let wallClock: @Sendable () -> Timestamp
    /// The judgement last logged (a change is logged once).
    private let lastLogged = Mutex<ClockAgreement.Judgement?>(nil)
    /// Peers being measured now.
    private let inFlight = Mutex<Set<String>>([])
    private let maxOffset: Duration
    /// Whose clocks this node compares with its own.
    struct Peer: Sendable {
        /// A region member's node id, or another region's name.
        var key: String
        var endpoint: RPCEndpoint
        /// A region member must answer with its own id (a stale address is not measured).
        var nodeID: NodeID?
    }

    /// The region's other members now; for a region of one node, a node of each other region.
    private let peers: @Sendable () -> [Peer]

    init(maxOffset: Duration, wallClock: @escaping @Sendable () -> Timestamp, peers: @escaping @Sendable () -> [Peer]) {
        // A sample stays usable for a minute: it is corrected for any step of this node's
        // own wall clock since (see `ClockAgreement.Sample.offset`), so what ages it is only
        // drift (100 ppm is 6 ms a minute) and a peer's step, which a majority outvotes. A
        // node cut off keeps stamping for that minute instead of refusing deletes at once.
        agreement = Mutex(ClockAgreement(maxOffset: maxOffset, freshFor: .seconds(60)))
        self.maxOffset = maxOffset
        self.wallClock = wallClock
        self.peers = peers
    }

    var judgement: ClockAgreement.Judgement { judge(wallNow: wallClock()) }

    private func judge(wallNow: Timestamp) -> ClockAgreement.Judgement {
        let members = peers().count + 1
        return agreement.withLock { $0.judge(members: members, now: .now, wallNow: wallNow.nanosecondsSinceEpoch) }
    }

    /// The region's time now, or UNAVAILABLE saying why this node cannot know it.
    func regionTime(node: NodeID) throws -> Timestamp {
        let wallNow = wallClock()
        switch judge(wallNow: wallNow) {
        case .agreed(let correction):
            return Timestamp(nanosecondsSinceEpoch: wallNow.nanosecondsSinceEpoch + correction)
        case .unknown(let why):
            throw RPCStatus(.unavailable, "node \(node) cannot stamp a time the region agrees on: \(why)")
        }
    }

    func run(_ node: VisibilityNode) async {
        while !Task.isCancelled {
            let peers = self.peers()
            agreement.withLock { $0.keep(only: Set(peers.map(\.key))) }
            // Each peer on its own task: one that hangs (cut off, paused, connecting for up to
            // 10 s) delays only its own next sample, not the others'.
            for peer in peers where inFlight.withLock({ $0.insert(peer.key).inserted }) {
                Task {
                    defer { _ = inFlight.withLock { $0.remove(peer.key) } }
                    if let sample = await measure(peer, node: node) { agreement.withLock { $0.record(sample, from: peer.key) } }
                }
            }
            logChange(node)
            try? await Task.sleep(for: node.configuration.clockCheckInterval)
        }
    }

    /// One round trip to `peer`: its clock against the middle of the trip on this node's.
    /// Nil when it does not answer, answers for another node, or took so long that the
    /// estimate could not tell agreeing clocks from disagreeing ones.
    private func measure(_ peer: Peer, node: VisibilityNode) async -> ClockAgreement.Sample? {
        guard let client = try? await node.transport.pool.client(for: peer.endpoint, within: .seconds(1)) else { return nil }
        // Timed from here: connecting is not part of the round trip.
        let sent = ContinuousClock.now
        let sentWall = wallClock()
        guard let answer = try? await client.unary(ClusterPeerMethods.readClock, .with { $0.fromNode = node.nodeID }, timeout: .seconds(1)),
              peer.nodeID.map({ answer.nodeID == $0 }) ?? true
        else { return nil }
        let received = ContinuousClock.now
        let halfTrip = (received - sent).nanoseconds / 2
        guard halfTrip <= maxOffset.nanoseconds else { return nil }
        let middle = sentWall.nanosecondsSinceEpoch + halfTrip
        // A peer's answer is not trusted to be sane: an offset past the limit is dropped, not
        // computed with (an overflow would stop the node).
        let (offset, overflow) = answer.wallClockUnixNanos.subtractingReportingOverflow(middle)
        guard !overflow, offset.magnitude <= ClockAgreement.offsetLimitNanoseconds else { return nil }
        return ClockAgreement.Sample(offsetNanoseconds: offset, uncertaintyNanoseconds: halfTrip,
                                     takenAt: sent + .nanoseconds(halfTrip), localWallNanoseconds: middle)
    }

    private func logChange(_ node: VisibilityNode) {
        // Logged when the kind changes (agrees, corrected, unknown), not each measurement; a
        // correction is logged only past twice the bound, so one near it does not flap.
        let bound = 2 * maxOffset.nanoseconds
        func kind(_ judgement: ClockAgreement.Judgement?) -> Int? {
            switch judgement {
            case .agreed(let correction): correction.magnitude <= UInt64(bound) ? 0 : 1
            case .unknown: 2
            case nil: nil
            }
        }
        let now = judgement
        let previous = lastLogged.withLock { last in
            defer { last = now }
            return last
        }
        guard kind(previous) != kind(now) else { return }
        switch now {
        case .agreed(let correction) where correction.magnitude <= UInt64(bound):
            if previous != nil { node.logger.notice("this node's clock agrees with the region's again") }
        case .agreed(let correction):
            node.logger.warning("this node's wall clock is off the region's: retention and deletes use the region's time", metadata: [
                "correction": "\(ClockAgreement.describe(correction))", "bound": "\(node.configuration.maxClockOffset)",
            ])
        case .unknown(let why):
            // At start the other members may not be listening yet: that is not worth a warning.
            let level: Logger.Level = previous == nil ? .info : .warning
            node.logger.log(level: level, "no time the region agrees on: retention waits and deletes are refused", metadata: ["why": "\(why)"])
        }
    }
}
