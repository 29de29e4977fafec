import Foundation
@testable import PeriscopeChaos
import PeriscopeTestSupport
import Testing

/// The harness's pure core: a seed fixes the schedule, partitions have the shapes they
/// claim, the kernel rules they become are valid nftables, and the acknowledged-writes
/// checker fails on a history that lost or invented a write.
@Suite struct FaultScheduleTests {
    /// Two regions, of 2 and 3 nodes (a deployment), so that every kind is possible.
    static let options = FaultSchedule.Options(durationMs: 120_000, nodes: 5, kinds: NemesisKind.allCases, regions: [[0, 1], [2, 3, 4]])

    @Test func aSeedFixesTheSchedule() {
        #expect(FaultSchedule.make(seed: 7, Self.options) == FaultSchedule.make(seed: 7, Self.options))
        #expect(FaultSchedule.make(seed: 7, Self.options) != FaultSchedule.make(seed: 8, Self.options))
    }

    @Test func faultsComeOneAtATimeWithinTheRunAndUseEveryKind() {
        var kinds: Set<NemesisKind> = []
        for seed in UInt64(1)...50 {
            let events = FaultSchedule.make(seed: seed, Self.options).events
            #expect(!events.isEmpty)
            for (earlier, later) in zip(events, events.dropFirst()) {
                #expect(earlier.endMs + Self.options.quietMs.lowerBound <= later.startMs, "seed \(seed): faults overlap")
            }
            #expect(events.allSatisfy { $0.startMs >= Self.options.quietMs.lowerBound && $0.endMs <= Self.options.durationMs })
            kinds.formUnion(events.map(\.kind))
        }
        #expect(kinds == Set(NemesisKind.allCases))
    }

    @Test func partitionsHaveTheirShapes() {
        for seed in UInt64(1)...40 {
            for event in FaultSchedule.make(seed: seed, Self.options).events {
                let cut = Set(event.blocked)
                switch event.kind {
                case .isolateOne:
                    let target = event.target!
                    #expect(cut == Set((0..<5).filter { $0 != target }.map { NodePair(target, $0) }))
                case .split:
                    // A minority of 2 and a majority of 3: 6 pairs cut, and the majority still talks.
                    #expect(cut.count == 6)
                case .bridge:
                    // The middle node reaches everyone; the two halves (2 and 2) do not reach each other.
                    let middle = event.target!
                    #expect(cut.count == 4 && cut.allSatisfy { $0.a != middle && $0.b != middle })
                case .lossy:
                    #expect(cut.isEmpty && (10...40).contains(event.lossPercent!))
                case .kill, .pause, .diskFull:
                    #expect(cut.isEmpty && event.target != nil)
                case .killLeader:
                    // The leader is asked for when the fault starts.
                    #expect(cut.isEmpty && event.target == nil)
                case .bandwidth:
                    #expect(cut.isEmpty && event.target != nil && (128...1_024).contains(event.rateKbit!))
                case .clockSkew:
                    let offset = event.clockOffsetSeconds!.magnitude
                    #expect(cut.isEmpty && event.target != nil && ((2...120).contains(offset) || (4 * 86_400...6 * 86_400).contains(offset)))
                case .regionCut:
                    // Every link between the region cut off and the other one, and no other.
                    let inside: Set<Int> = event.region == 0 ? [0, 1] : [2, 3, 4]
                    #expect(cut.count == 6 && cut.allSatisfy { inside.contains($0.a) != inside.contains($0.b) })
                }
            }
        }
    }

    @Test func aRegionCutNeedsRegionsAndOffsetsGoBothWays() {
        // One region: never a region cut.
        let single = FaultSchedule.Options(durationMs: 120_000, nodes: 5, kinds: [.regionCut, .kill])
        #expect((UInt64(1)...20).allSatisfy { FaultSchedule.make(seed: $0, single).events.allSatisfy { $0.kind == .kill } })
        let skews = (UInt64(1)...30).flatMap { FaultSchedule.make(seed: $0, .init(durationMs: 60_000, nodes: 3, kinds: [.clockSkew])).events }
            .compactMap(\.clockOffsetSeconds)
        #expect(skews.contains { $0 > 86_400 } && skews.contains { $0 < -86_400 } && skews.contains { (1...120).contains($0) }
            && skews.contains { (-120 ... -1).contains($0) })
        #expect(FaultEvent(kind: .clockSkew, startMs: 0, endMs: 1, target: 1, blocked: [], lossPercent: nil, clockOffsetSeconds: -(4 * 86_400 + 3_600 + 120)).label
            == "clock-skew n2 -4d 1h 2m")
    }

    @Test func theRulesAreValidNftablesAndTouchOnlyTheirTable() async throws {
        let rules = NftablesRules(table: "periscope_chaos_test")
        let hosts = (2...6).map { "127.0.70.\($0)" }
        let isolate = FaultEvent(kind: .isolateOne, startMs: 0, endMs: 1, target: 0, blocked: (1..<5).map { NodePair(0, $0) }, lossPercent: nil)
        let lossy = FaultEvent(kind: .lossy, startMs: 0, endMs: 1, target: 2, blocked: [], lossPercent: 25)
        let text = try #require(rules.ruleset(for: isolate, hosts: hosts))
        #expect(text.contains("table inet periscope_chaos_test {"))
        #expect(text.contains("ip saddr 127.0.70.2 ip daddr 127.0.70.3 drop") && text.contains("ip saddr 127.0.70.3 ip daddr 127.0.70.2 drop"))
        #expect(!text.contains("127.0.70.3 ip daddr 127.0.70.4"), "only the isolated node's links are cut")
        let lossText = try #require(rules.ruleset(for: lossy, hosts: hosts))
        #expect(lossText.contains("ip saddr 127.0.70.4 ip daddr 127.0.70.2 numgen random mod 100 < 25 drop"))
        #expect(rules.ruleset(for: FaultEvent(kind: .kill, startMs: 0, endMs: 1, target: 1, blocked: [], lossPercent: nil), hosts: hosts) == nil)
        // nft's check mode parses the rules against the kernel without applying them (root only, as the harness).
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft") else {
            Issue.record("nft -c needs root and nftables (scripts/setup.sh installs it)")
            return
        }
        for ruleset in [text, lossText] {
            let checked = try await runTool("/usr/sbin/nft", ["-c", "-f", "-"], stdin: ruleset)
            #expect(checked.status == 0, "nft -c refused:\n\(ruleset)\n\(checked.stderr)")
        }
    }
}
