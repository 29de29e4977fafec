import Foundation
import PeriscopeClient
import PeriscopeTestSupport
import Testing

/// A member whose wall clock is days off neither expires the region's data nor writes
/// tombstones that expire at once. Found by the chaos harness's clock-skew nemesis (seed 1):
/// a node 5 days ahead proposed a retention horizon that dropped every closed execution of
/// the region, and a node days behind filed tombstones in partitions already expired, so a
/// retried older write brought a deleted execution back. Nodes now stamp with the region's
/// time (`ClockAgreement`).
@Suite(.serialized) struct ClockSkewTests {
    static let fiveDays = 5 * 86_400

    static func execution(_ id: String, version: Int64, closed: Bool) -> Execution {
        .with {
            $0.workflowID = id; $0.runID = "r"; $0.workflowType = "skew"; $0.taskQueue = "q"; $0.version = version
            $0.status = closed ? .completed : .running
            $0.startTime = .init(date: Date().addingTimeInterval(-120))
            if closed { $0.closeTime = .init(date: Date()) }
        }
    }

    @Test func aMemberWhoseClockIsDaysOffNeitherExpiresNorResurrects() async throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let offsetFile = directory + "/clock-offset"
        let setOffset = { (seconds: Int) in try Data("\(seconds)\n".utf8).write(to: URL(fileURLWithPath: offsetFile)) }
        try setOffset(0)
        // Retention every second on every node; node 3's clock follows the file.
        let region = try await RegionProcesses.start(count: 3, subnet: 86, extra: ["--retention-interval", "1"],
                                                     perNode: [3: ["--unsafe-clock-offset-file", offsetFile]])
        defer { region.killAll() }
        try await region.awaitReady(via: 1)
        let one = try await region.client(1)
        // Through node 3 itself: it stamps the deletes it is sent.
        let three = try await region.client(3) { $0.routesWritesToLeaders = false }
        for index in 0..<10 { _ = try await one.recordClosed(namespace: "default", Self.execution("closed-\(index)", version: 1, closed: true)) }
        _ = try await one.recordStarted(namespace: "default", Self.execution("deleted", version: 1, closed: false))

        // Five days behind: a delete stamped by node 3, then a retried older write.
        try setOffset(-Self.fiveDays)
        try await Task.sleep(for: .seconds(3))  // the file is reread every second, the clocks compared every second
        let deleted = try await three.delete(namespace: "default", workflowID: "deleted", runID: "r", version: 5)
        #expect(deleted.applied)
        try await Task.sleep(for: .seconds(2))  // retention runs meanwhile on every node
        let retried = try await three.upsert(namespace: "default", Self.execution("deleted", version: 3, closed: false))
        #expect(!retried.applied, "an older write after the delete must be refused by its tombstone")
        #expect(try await one.execution(namespace: "default", workflowID: "deleted", runID: "r", consistency: .strong) == nil)

        // Five days ahead: node 3's retention must not drop executions closed just now.
        try setOffset(Self.fiveDays)
        try await Task.sleep(for: .seconds(4))
        let count = try await one.count(namespace: "default", query: "WorkflowType = 'skew'", consistency: .strong)
        #expect(count.count == 10, "closed executions dropped by a retention horizon from a clock 5 days ahead")

        let metrics = try CLITests.runProgram("/usr/bin/curl", ["-s", "--http2-prior-knowledge", "http://\(region.address(of: 3))/metrics"]).stdout
        #expect(metrics.contains("periscope_clock_agreed 1"), "\(metrics.split(separator: "\n").filter { $0.contains("clock") })")
        let correction = metrics.split(separator: "\n").first { $0.hasPrefix("periscope_clock_correction_seconds ") }
            .flatMap { Double($0.split(separator: " ")[1]) }
        #expect(correction.map { abs($0 + Double(Self.fiveDays)) < 5 } == true, "correction \(String(describing: correction))")
        await one.close()
        await three.close()
    }

    @Test func aRegionOfOneNodeComparesItsClockWithTheOtherRegions() async throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let offsetFile = directory + "/clock-offset"
        try Data("0\n".utf8).write(to: URL(fileURLWithPath: offsetFile))
        // Three regions of one node; B's clock follows the file, and every node runs retention each second.
        let deployment = try await DeploymentProcesses.start(firstSubnet: 87, extra: ["--retention-interval", "1"],
                                                             extraByRegion: ["B": ["--unsafe-clock-offset-file", offsetFile]])
        defer { deployment.killAll() }
        try await MultiRegionTests.createOrders(deployment)
        let home = try await deployment.client("A")
        for index in 0..<10 { _ = try await home.recordClosed(namespace: "orders", Self.execution("closed-\(index)", version: 1, closed: true)) }
        #expect(await deployment.converged("orders") == nil)

        // B alone in its region, 5 days ahead: its own retention must not drop its replica's copies.
        try Data("\(Self.fiveDays)\n".utf8).write(to: URL(fileURLWithPath: offsetFile))
        try await Task.sleep(for: .seconds(4))
        #expect(try await deployment.workflowIDs("orders", in: "B").count == 10, "region B expired executions closed just now")
        #expect(await deployment.converged("orders", timeout: .seconds(10)) == nil)
        await home.close()
    }

    @Test func badClockAndRetentionOptionsAreRefused() throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let garbled = directory + "/garbled"
        try Data("five days\n".utf8).write(to: URL(fileURLWithPath: garbled))
        for (arguments, says) in [
            (["--retention-interval", "0.5"], "--retention-interval must be in [1, 86400] seconds; got 0.5"),
            (["--max-clock-offset-ms", "0"], "--max-clock-offset-ms must be in [1, 3600000]; got 0"),
            (["--unsafe-clock-offset-file", directory + "/missing"], "--unsafe-clock-offset-file:"),
            (["--unsafe-clock-offset-file", garbled], "'five days' is not a clock offset in seconds"),
        ] {
            let outcome = try CLITests.runProgram(CLITests.binary, ["node", "start", "--data", directory + "/data"] + arguments)
            #expect(outcome.status == 64, "\(arguments): \(outcome.status) \(outcome.stderr)")
            #expect(outcome.stderr.contains(says), "\(arguments): \(outcome.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/data"), "nothing was created")
    }
}
