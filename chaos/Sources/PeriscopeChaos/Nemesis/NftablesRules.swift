/// The kernel rules a network fault becomes: one nftables table of the harness's own (and
/// nothing else touched), dropping packets between node addresses in both directions, or a
/// share of them (`numgen random`). Healing deletes the table. Pure: the shell hands the
/// text to `nft -f -`.
public struct NftablesRules: Sendable {
    /// The harness's table (in the `inet` family); created and deleted only by it.
    public let table: String

    public init(table: String) {
        precondition(table.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } && !table.isEmpty,
                     "an nftables table name of letters, digits and '_'; got '\(table)'")
        self.table = table
    }

    /// The ruleset for `event` between `hosts` (each node's IPv4 address, by index): drops
    /// for every blocked pair, loss on every link of a lossy node. Nil for a process fault.
    public func ruleset(for event: FaultEvent, hosts: [String]) -> String? {
        guard event.kind.isNetwork else { return nil }
        var rules: [String] = []
        for pair in event.blocked {
            rules.append("ip saddr \(hosts[pair.a]) ip daddr \(hosts[pair.b]) drop")
            rules.append("ip saddr \(hosts[pair.b]) ip daddr \(hosts[pair.a]) drop")
        }
        if event.kind == .lossy, let target = event.target, let percent = event.lossPercent {
            for other in hosts.indices where other != target {
                rules.append("ip saddr \(hosts[target]) ip daddr \(hosts[other]) numgen random mod 100 < \(percent) drop")
                rules.append("ip saddr \(hosts[other]) ip daddr \(hosts[target]) numgen random mod 100 < \(percent) drop")
            }
        }
        // Loopback traffic passes the output hook once: one chain there sees every packet
        // between two local addresses.
        return """
            table inet \(table) {
              chain output {
                type filter hook output priority 0; policy accept;
            \(rules.map { "    " + $0 }.joined(separator: "\n"))
              }
            }

            """
    }

    /// The arguments of `nft` that remove the table (healing, and always on exit).
    public var deleteArguments: [String] { ["delete", "table", "inet", table] }
}
