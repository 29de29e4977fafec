import Foundation
import PeriscopeTestSupport
import Testing

/// A table of the test's own in nftables that drops every packet between one address and
/// others, both ways: what the chaos harness does between node addresses. `remove` deletes
/// the table (call it from the test's `defer`).
struct KernelCut {
    static let nft = "/usr/sbin/nft"
    let table = "periscope_test_\(getpid())"

    /// Whether the test can add kernel rules (root and nft); if not, records why as an issue.
    static func available() -> Bool {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: nft) else {
            Issue.record("this test needs root and nft (scripts/setup.sh installs nftables): it adds kernel rules between node addresses")
            return false
        }
        return true
    }

    /// Drops every packet from `host` to `others` and back.
    func drop(between host: String, and others: [String]) async throws {
        let set = others.joined(separator: ", ")
        let rules = """
            table inet \(table) {
              chain output {
                type filter hook output priority 0; policy accept;
                ip saddr \(host) ip daddr { \(set) } drop
                ip saddr { \(set) } ip daddr \(host) drop
              }
            }
            """
        let added = try await runTool(Self.nft, ["-f", "-"], stdin: rules)
        #expect(added.status == 0, "nft: \(added.stderr)")
    }

    func remove() { _ = try? runToolSync(Self.nft, ["delete", "table", "inet", table]) }
}
