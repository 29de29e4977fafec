import PeriscopeRaft

/// The faults a run can inject.
public enum NemesisKind: String, CaseIterable, Codable, Sendable {
    /// One node cut off from every other, both directions.
    case isolateOne = "isolate-one"
    /// A minority (⌊n/2⌋ nodes) cut off from the majority.
    case split
    /// Two halves that cannot reach each other but each reach one middle node.
    case bridge
    /// Random loss on the links of one node (`numgen random`), both directions.
    case lossy
    /// kill -9 of one node, restarted when the fault ends.
    case kill
    /// SIGSTOP of one node for longer than an election timeout, then SIGCONT.
    case pause
    /// kill -9 of the node leading the most shards (asked of the admin API when the fault
    /// starts), restarted when the fault ends.
    case killLeader = "kill-leader"
    /// A bandwidth limit (`tc` htb on the loopback device) on everything one node sends
    /// and receives.
    case bandwidth
    /// One node's data directory (a tmpfs of its own) filled by a ballast file; deleting
    /// the file heals it.
    case diskFull = "disk-full"
    /// One node's wall clock set off by seconds to minutes, or by days (more than a
    /// namespace's retention), through the node's `--unsafe-clock-offset-file`; set back at
    /// the heal. Monotonic time is left alone: timers and Raft ticks do not see it.
    case clockSkew = "clock-skew"
    /// Every node of one region cut off from every node of the other regions (a deployment
    /// of regions only; the nodes within each side still reach each other).
    case regionCut = "region-cut"

    /// Partitions and loss are nftables rules; bandwidth is a `tc` class; disks are tmpfs mounts.
    public var needsRoot: Bool { isNetwork || self == .bandwidth || self == .diskFull }

    /// Partitions and loss are kernel rules between node addresses; the others act on processes.
    public var isNetwork: Bool { self == .isolateOne || self == .split || self == .bridge || self == .lossy || self == .regionCut }
}

/// One fault in a run: what, when (milliseconds from the run's start), and on which nodes
/// (indexes into the topology's nodes).
public struct FaultEvent: Codable, Equatable, Sendable {
    public var kind: NemesisKind
    public var startMs: Int
    public var endMs: Int
    /// The node a process fault or a loss acts on, or the node isolated.
    public var target: Int?
    /// Pairs of nodes whose traffic is dropped both ways (partitions).
    public var blocked: [NodePair]
    /// Percent of packets dropped on the target's links (`lossy`).
    public var lossPercent: Int?
    /// The bandwidth of everything to and from the target, in kbit/s (`bandwidth`).
    public var rateKbit: Int? = nil
    /// How far the target's wall clock is set off, in seconds (`clock-skew`).
    public var clockOffsetSeconds: Int? = nil
    /// The region cut off (`region-cut`), an index into the topology's regions.
    public var region: Int? = nil

    /// "kill n2", "lossy n3 25%", "clock-skew n1 -4d 3h": nodes numbered from 1 in the
    /// topology's order (across regions), regions from 1.
    public var label: String {
        var text = kind.rawValue
        if let target { text += " n\(target + 1)" }
        if let region { text += " r\(region + 1)" }
        if kind == .split || kind == .bridge || kind == .regionCut { text += " (\(blocked.count) links cut)" }
        if let lossPercent { text += " \(lossPercent)%" }
        if let rateKbit { text += " \(rateKbit) kbit/s" }
        if let clockOffsetSeconds { text += " " + Self.describeOffset(clockOffsetSeconds) }
        return text
    }

    /// "+45 s", "-4d 3h 20m".
    static func describeOffset(_ seconds: Int) -> String {
        let sign = seconds < 0 ? "-" : "+"
        let magnitude = seconds.magnitude
        guard magnitude >= 86_400 else { return "\(sign)\(magnitude) s" }
        return "\(sign)\(magnitude / 86_400)d \(magnitude % 86_400 / 3_600)h \(magnitude % 3_600 / 60)m"
    }
}

/// Two nodes, the smaller index first.
public struct NodePair: Codable, Hashable, Sendable {
    public let a: Int
    public let b: Int

    public init(_ x: Int, _ y: Int) {
        precondition(x != y, "a pair of one node \(x)")
        (a, b) = x < y ? (x, y) : (y, x)
    }
}

/// A seed's faults for a run: one at a time, each followed by a quiet time in which the
/// cluster may recover, all over before the run's last quiet stretch. Pure: the same seed
/// and options give the same schedule.
public struct FaultSchedule: Equatable, Sendable {
    public var events: [FaultEvent]

    public struct Options: Sendable {
        public var durationMs: Int
        public var nodes: Int
        public var kinds: [NemesisKind]
        /// How long each fault lasts, at least and at most.
        public var faultMs: ClosedRange<Int> = 3_000...8_000
        /// Quiet time between faults, and at the start and the end of the run.
        public var quietMs: ClosedRange<Int> = 2_000...4_000
        public var lossPercent: ClosedRange<Int> = 10...40
        public var rateKbit: ClosedRange<Int> = 128...1_024
        /// Clock offsets: half of them small (seconds to minutes), half larger than the
        /// default retention of 3 days (days), each ahead or behind.
        public var smallClockOffsetSeconds: ClosedRange<Int> = 2...120
        public var largeClockOffsetSeconds: ClosedRange<Int> = 4 * 86_400...6 * 86_400
        /// The nodes of each region (indexes into the nodes); one region of every node by default.
        public var regions: [[Int]]

        public init(durationMs: Int, nodes: Int, kinds: [NemesisKind], regions: [[Int]]? = nil) {
            self.durationMs = durationMs
            self.nodes = nodes
            self.kinds = kinds
            self.regions = regions ?? [Array(0..<nodes)]
        }
    }

    public static func make(seed: UInt64, _ options: Options) -> FaultSchedule {
        precondition(options.nodes >= 2, "a fault schedule needs at least 2 nodes; got \(options.nodes)")
        var random = SeededRandom(seed: seed)
        var events: [FaultEvent] = []
        let kinds = options.kinds.filter { ($0 != .bridge || options.nodes >= 3) && ($0 != .regionCut || options.regions.count >= 2) }
        var now = Int.random(in: options.quietMs, using: &random)
        while !kinds.isEmpty {
            let length = Int.random(in: options.faultMs, using: &random)
            guard now + length + options.quietMs.lowerBound <= options.durationMs else { break }
            let kind = kinds[Int.random(in: 0..<kinds.count, using: &random)]
            events.append(event(kind, from: now, to: now + length, nodes: options.nodes, options: options, random: &random))
            now += length + Int.random(in: options.quietMs, using: &random)
        }
        return FaultSchedule(events: events)
    }

    private static func event(_ kind: NemesisKind, from start: Int, to end: Int, nodes: Int, options: Options,
                              random: inout SeededRandom) -> FaultEvent {
        var event = FaultEvent(kind: kind, startMs: start, endMs: end, target: nil, blocked: [], lossPercent: nil, rateKbit: nil)
        let all = Array(0..<nodes)
        switch kind {
        case .isolateOne:
            let target = Int.random(in: 0..<nodes, using: &random)
            event.target = target
            event.blocked = all.filter { $0 != target }.map { NodePair(target, $0) }
        case .split:
            let minority = Set(all.shuffled(using: &random).prefix(nodes / 2))
            event.blocked = pairs(across: minority, all.filter { !minority.contains($0) })
        case .bridge:
            var others = all.shuffled(using: &random)
            event.target = others.removeFirst()  // the middle node both halves reach
            let half = Set(others.prefix(others.count / 2))
            event.blocked = pairs(across: half, others.filter { !half.contains($0) })
        case .lossy:
            event.target = Int.random(in: 0..<nodes, using: &random)
            event.lossPercent = Int.random(in: options.lossPercent, using: &random)
        case .kill, .pause, .diskFull:
            event.target = Int.random(in: 0..<nodes, using: &random)
        case .bandwidth:
            event.target = Int.random(in: 0..<nodes, using: &random)
            event.rateKbit = Int.random(in: options.rateKbit, using: &random)
        case .killLeader:
            break  // the leader is found when the fault starts
        case .clockSkew:
            event.target = Int.random(in: 0..<nodes, using: &random)
            let range = Bool.random(using: &random) ? options.smallClockOffsetSeconds : options.largeClockOffsetSeconds
            event.clockOffsetSeconds = Int.random(in: range, using: &random) * (Bool.random(using: &random) ? 1 : -1)
        case .regionCut:
            let region = Int.random(in: 0..<options.regions.count, using: &random)
            event.region = region
            let inside = Set(options.regions[region])
            event.blocked = pairs(across: inside, all.filter { !inside.contains($0) })
        }
        return event
    }

    static func pairs(across left: Set<Int>, _ right: [Int]) -> [NodePair] {
        left.sorted().flatMap { a in right.map { NodePair(a, $0) } }.sorted { ($0.a, $0.b) < ($1.a, $1.b) }
    }
}
