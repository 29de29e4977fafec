import PeriscopeRaft

/// A network of directed links between replicas that drops, duplicates, delays and reorders
/// messages, and cuts links in any pattern (partitions, asymmetric links, bridges). Pure:
/// time is the simulator's tick and randomness is the simulator's generator.
struct SimulatedNetwork {
    struct Faults {
        var dropPercent = 0
        var duplicatePercent = 0
        /// Each message arrives 1...delayTicksMax ticks after it is sent; spread reorders.
        var delayTicksMax = 1
    }

    private struct InFlight {
        var deliverAt: Int
        var sequence: Int
        var message: Message
    }

    var faults = Faults()
    /// Directed links that carry nothing: (from, to).
    private(set) var cutLinks: Set<Link> = []
    private var inFlight: [InFlight] = []
    private var nextSequence = 0
    private(set) var sent = 0
    private(set) var dropped = 0
    private(set) var duplicated = 0

    struct Link: Hashable { var from: NodeID, to: NodeID }

    var isPartitioned: Bool { !cutLinks.isEmpty }

    func canDeliver(from: NodeID, to: NodeID) -> Bool { !cutLinks.contains(Link(from: from, to: to)) }

    mutating func cut(from: NodeID, to: NodeID) { cutLinks.insert(Link(from: from, to: to)) }

    /// Cuts every link between the two sides, both ways.
    mutating func separate(_ side: [NodeID], from other: [NodeID]) {
        for a in side { for b in other where a != b { cut(from: a, to: b); cut(from: b, to: a) } }
    }

    mutating func heal() { cutLinks = [] }

    /// Queues `message`; returns false if the network lost it (the sender's transport would
    /// notice a snapshot it failed to stream).
    @discardableResult
    mutating func send(_ message: Message, now: Int, random: inout SeededRandom) -> Bool {
        sent += 1
        guard canDeliver(from: message.from, to: message.to), !chance(faults.dropPercent, &random) else {
            dropped += 1
            return false
        }
        enqueue(message, now: now, random: &random)
        if chance(faults.duplicatePercent, &random) {
            duplicated += 1
            enqueue(message, now: now, random: &random)
        }
        return true
    }

    private mutating func enqueue(_ message: Message, now: Int, random: inout SeededRandom) {
        let delay = 1 + Int(random.next() % UInt64(max(1, faults.delayTicksMax)))
        inFlight.append(InFlight(deliverAt: now + delay, sequence: nextSequence, message: message))
        nextSequence += 1
    }

    /// The messages due by `now`, in delivery order, each with whether it arrives (a link
    /// cut while it was in flight loses it).
    mutating func deliver(now: Int) -> [(message: Message, arrives: Bool)] {
        var due: [InFlight] = []
        var waiting: [InFlight] = []
        for item in inFlight {
            if item.deliverAt <= now { due.append(item) } else { waiting.append(item) }
        }
        inFlight = waiting
        due.sort { ($0.deliverAt, $0.sequence) < ($1.deliverAt, $1.sequence) }
        return due.map { item in
            let arrives = canDeliver(from: item.message.from, to: item.message.to)
            if !arrives { dropped += 1 }
            return (item.message, arrives)
        }
    }

    mutating func dropAll(to node: NodeID) {
        inFlight.removeAll { $0.message.to == node }
    }

    var inFlightCount: Int { inFlight.count }
}

func chance(_ percent: Int, _ random: inout SeededRandom) -> Bool {
    percent > 0 && Int(random.next() % 100) < percent
}

extension SeededRandom {
    mutating func pick<Element>(_ elements: [Element]) -> Element? {
        elements.isEmpty ? nil : elements[Int(next() % UInt64(elements.count))]
    }

    mutating func below(_ bound: Int) -> Int { bound <= 0 ? 0 : Int(next() % UInt64(bound)) }
}
