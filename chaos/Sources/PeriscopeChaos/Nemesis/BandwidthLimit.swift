/// The `tc` commands a bandwidth fault becomes: an htb root on the loopback device whose
/// default class is unlimited, and one limited class that u32 filters send everything to or
/// from the target's address. Healing deletes the root qdisc, so the harness only installs
/// one where the device has none of its own (`noqueue`, checked by the shell first). Netem
/// (delay, reordering) is not in this machine's kernel: delay is not pretended.
public struct BandwidthLimit: Sendable, Equatable {
    public var device: String
    public var host: String
    public var rateKbit: Int

    public init(device: String = "lo", host: String, rateKbit: Int) {
        precondition(rateKbit > 0, "a bandwidth of at least 1 kbit/s; got \(rateKbit)")
        self.device = device
        self.host = host
        self.rateKbit = rateKbit
    }

    /// Each `tc` invocation's arguments, in order.
    public var installCommands: [[String]] {
        [
            ["qdisc", "add", "dev", device, "root", "handle", "1:", "htb", "default", "1", "r2q", "100000"],
            ["class", "add", "dev", device, "parent", "1:", "classid", "1:1", "htb", "rate", "100gbit"],
            ["class", "add", "dev", device, "parent", "1:", "classid", "1:2", "htb", "rate", "\(rateKbit)kbit", "ceil", "\(rateKbit)kbit"],
            ["filter", "add", "dev", device, "parent", "1:", "protocol", "ip", "prio", "1", "u32", "match", "ip", "dst", "\(host)/32", "flowid", "1:2"],
            ["filter", "add", "dev", device, "parent", "1:", "protocol", "ip", "prio", "1", "u32", "match", "ip", "src", "\(host)/32", "flowid", "1:2"],
        ]
    }

    /// Removes the root qdisc (and with it the classes and filters).
    public var removeCommand: [String] { ["qdisc", "del", "dev", device, "root"] }
}
