/// Spreads shard leadership over a region's members. Elections put leaders wherever the
/// first candidate was; a node that leads two or more shards more than another member
/// hands one of them over (Raft's leadership transfer) every `leaderBalanceInterval`, so
/// writes, which every leader serializes, are spread over the nodes. Only the leader moves
/// its own leadership, and only to a member whose replica is caught up and that answered
/// within the last two seconds, so
/// two nodes never fight over a shard and a transfer never waits on a slow replica.
struct LeaderBalancer {
    let node: VisibilityNode

    /// Which of `selfID`'s shards to hand to which member, if any. Pure.
    /// - `leaders`: each shard's leader as this node knows it (nil: none known).
    /// - `eligible(shard, member)`: the member's replica of the shard can take leadership now.
    static func nextMove(leaders: [UInt64?], members: [UInt64], selfID: UInt64,
                         eligible: (Int, UInt64) -> Bool) -> (shard: Int, to: UInt64)? {
        var counts = Dictionary(uniqueKeysWithValues: members.map { ($0, 0) })
        for case let leader? in leaders where counts[leader] != nil { counts[leader]! += 1 }
        let mine = counts[selfID] ?? 0
        // Fewest leaderships first; ids break ties so every node would pick alike.
        for target in members.filter({ $0 != selfID }).sorted(by: { (counts[$0]!, $0) < (counts[$1]!, $1) }) {
            guard mine - counts[target]! >= 2 else { return nil }
            if let shard = leaders.indices.first(where: { leaders[$0] == selfID && eligible($0, target) }) {
                return (shard, target)
            }
        }
        return nil
    }

    /// Whether `member` can take the leadership of a group this node leads: a voter, caught
    /// up within 100 entries, no transfer under way, and heard from recently. Pure.
    static func canTakeOver(_ status: ReplicaStatus, member: UInt64, isResponsive: Bool) -> Bool {
        status.transferringTo == nil && status.voters.contains(member) && isResponsive
            && (status.matched[member] ?? 0) + 100 >= status.lastLogIndex
    }

    /// A member not heard from for this long is not given a leadership: a paused process
    /// (SIGSTOP) keeps its connections open, and would take a shard it cannot lead.
    static let responsiveWithin: Duration = .seconds(2)

    func run(every interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled, node.isReady else { continue }
            let statuses = node.groups.map(\.status)
            let move = Self.nextMove(leaders: statuses.map(\.leader), members: node.memberIDs, selfID: node.nodeID) { shard, member in
                Self.canTakeOver(statuses[shard], member: member,
                                 isResponsive: node.transport.isResponsive(member, within: Self.responsiveWithin))
            }
            guard let move else { continue }
            do {
                try await node.groups[move.shard].transferLeadership(to: move.to)
                node.logger.info("moving a shard's leadership to balance leaders", metadata: [
                    "shard": "\(move.shard)", "to": "\(move.to)",
                ])
            } catch {
                node.logger.debug("leader balancing: transfer refused", metadata: ["shard": "\(move.shard)", "error": "\(error)"])
            }
        }
    }
}
