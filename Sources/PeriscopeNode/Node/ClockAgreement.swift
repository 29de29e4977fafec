import Foundation
import PeriscopeModel

/// What this node knows of its region's wall clocks, and the time it may stamp with.
///
/// Two things read the wall clock and write what they read into the replicated state:
/// retention (the horizon: closed partitions older than now − retention are dropped on every
/// replica) and deletes (a tombstone is filed in the partition of its time, and expires with
/// it). One node's clock days ahead would drop every closed execution of the region; days
/// behind, its tombstones would be expired the moment they are written, so a retried older
/// write brings the deleted execution back. Both were found by the chaos harness's
/// clock-skew nemesis (docs/reliability.md).
///
/// So a node stamps with the *region's* time: its own clock, corrected by the median of its
/// clock's offsets from the members it measured recently (itself counting as offset 0), but
/// only while a majority of the region (itself included) agrees with that median within
/// `maxOffset`. (The members of a region of one node are the other regions' nodes, one per
/// region: alone, it could not tell its clock is off.) A node whose clock alone is off uses
/// the others' time; a node that cannot compare with a majority (cut off, or the clocks
/// disagree) stamps nothing: retention waits and deletes are refused as unavailable. Pure: the shell (`ClockMonitor`) feeds it samples
/// and the monotonic time.
public struct ClockAgreement: Sendable {
    /// One measurement of a peer's clock against this node's (Cristian's algorithm): the
    /// peer's wall time minus this node's at the middle of the round trip, within ± half the
    /// round trip.
    public struct Sample: Sendable, Equatable {
        public var offsetNanoseconds: Int64
        public var uncertaintyNanoseconds: Int64
        /// When it was taken, by this node's monotonic clock and by its wall clock: a jump of
        /// the wall clock since then shifts the offset by as much (see `judge`).
        public var takenAt: ContinuousClock.Instant
        public var localWallNanoseconds: Int64

        public init(offsetNanoseconds: Int64, uncertaintyNanoseconds: Int64, takenAt: ContinuousClock.Instant, localWallNanoseconds: Int64) {
            self.offsetNanoseconds = offsetNanoseconds
            self.uncertaintyNanoseconds = uncertaintyNanoseconds
            self.takenAt = takenAt
            self.localWallNanoseconds = localWallNanoseconds
        }

        /// The offset as of `now` (monotonic) and `wallNow` (this node's wall clock): less
        /// whatever this node's wall clock gained on its monotonic clock since the sample.
        /// A clock set days ahead is therefore judged at once, not at the next measurement.
        /// Nil when it would leave `offsetLimitNanoseconds`.
        func offset(now: ContinuousClock.Instant, wallNow: Int64) -> Int64? {
            let (wallElapsed, overflow) = wallNow.subtractingReportingOverflow(localWallNanoseconds)
            guard !overflow, wallElapsed.magnitude <= 2 * ClockAgreement.offsetLimitNanoseconds,
                  offsetNanoseconds.magnitude <= ClockAgreement.offsetLimitNanoseconds else { return nil }
            let offset = offsetNanoseconds - (wallElapsed - (now - takenAt).nanoseconds)
            return offset.magnitude <= ClockAgreement.offsetLimitNanoseconds ? offset : nil
        }
    }

    public enum Judgement: Sendable, Equatable {
        /// Add this to the local wall clock to get the region's time (0 while the local
        /// clock agrees with the region's).
        case agreed(correctionNanoseconds: Int64)
        /// No time can be trusted: why.
        case unknown(String)
    }

    /// Offsets beyond ten years are not clocks but garbage: dropped (and no sum overflows).
    public static let offsetLimitNanoseconds: UInt64 = 10 * 366 * 86_400 * 1_000_000_000

    /// How far two clocks may differ and still count as agreeing.
    public let maxOffset: Duration
    /// A sample older than this is not used (a clock may have jumped since).
    public let freshFor: Duration
    /// By peer: a node id, or a remote region's name.
    public private(set) var samples: [String: Sample] = [:]

    public init(maxOffset: Duration, freshFor: Duration) {
        self.maxOffset = maxOffset
        self.freshFor = freshFor
    }

    public mutating func record(_ sample: Sample, from peer: String) { samples[peer] = sample }

    /// Forgets peers that left.
    public mutating func keep(only members: Set<String>) { samples = samples.filter { members.contains($0.key) } }

    /// The region's time relative to this node's clock, given `members` (this node included:
    /// the region map's members, joining and leaving ones too, which only makes the majority
    /// harder to reach), the monotonic time now and this node's wall clock now.
    public func judge(members: Int, now: ContinuousClock.Instant, wallNow: Int64) -> Judgement {
        let fresh = samples.values.filter { now - $0.takenAt <= freshFor }.compactMap { sample in
            sample.offset(now: now, wallNow: wallNow).map { (offsetNanoseconds: $0, uncertaintyNanoseconds: sample.uncertaintyNanoseconds) }
        }
        let values = ([(offsetNanoseconds: Int64(0), uncertaintyNanoseconds: Int64(0))] + fresh).sorted { $0.offsetNanoseconds < $1.offsetNanoseconds }
        let majority = members / 2 + 1
        guard values.count >= majority else {
            return .unknown("it measured the clocks of \(values.count - 1) other members of \(members - 1) in the last "
                + "\(freshFor); it needs \(majority - 1) to know the region's time")
        }
        let bound = maxOffset.nanoseconds
        // With an even count either middle value is a median: the one a majority agrees with
        // (the one nearer this node's clock when both are).
        let middles = Set([values[(values.count - 1) / 2], values[values.count / 2]].map(\.offsetNanoseconds)).sorted { $0.magnitude < $1.magnitude }
        for median in middles {
            let agreeing = values.filter { ($0.offsetNanoseconds - median).magnitude <= UInt64(bound + $0.uncertaintyNanoseconds) }
            guard agreeing.count >= majority else { continue }
            let middle = values.first { $0.offsetNanoseconds == median }!
            // Within the bound, or within what the measurement cannot tell apart: no correction.
            return .agreed(correctionNanoseconds: median.magnitude <= UInt64(bound + middle.uncertaintyNanoseconds) ? 0 : median)
        }
        let described = values.map { Self.describe($0.offsetNanoseconds) }.joined(separator: ", ")
        return .unknown("the clocks of the members it measured disagree (offsets from this node's: \(described)); "
            + "fewer than \(majority) agree within \(maxOffset)")
    }

    /// "+0.003 s", "-345600.120 s".
    public static func describe(_ nanoseconds: Int64) -> String {
        (nanoseconds < 0 ? "-" : "+") + String(format: "%.3f s", Double(nanoseconds.magnitude) / 1e9)
    }
}
