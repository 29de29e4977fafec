import Foundation
import PeriscopeClient
import PeriscopeNode
import PeriscopeTestSupport
import Testing

/// A node whose disk fills refuses writes with a clear error instead of crashing, and takes
/// them again when space returns, with nothing acknowledged lost. Before the space guard,
/// the chaos harness's disk-full nemesis aborted the node inside RocksDB (an assertion on
/// the write after a failed one). The data directory is a tmpfs of its own (mount: root).
@Suite(.serialized) struct DiskFullTests {
    @Test func aFullDiskRefusesWritesClearlyAndRecovers() async throws {
        let directory = try CLITests.temporaryDirectory()
        let data = directory + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let mount = try CLITests.runProgram("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=1024m", "periscope-disk-full-test", data])
        try #require(mount.status == 0, "mounting a tmpfs needs root: \(mount.stderr)")
        defer {
            _ = try? CLITests.runProgram("/usr/bin/umount", ["-l", data])
            try? FileManager.default.removeItem(atPath: directory)
        }
        let node = try await NodeProcess.start(data: data, extra: ["--disk-floor-mb", "128", "--disk-reserve-mb", "32"])
        defer { node.killMinusNine() }
        var configuration = PeriscopeClient.Configuration()
        configuration.retry = .none
        let client = try await PeriscopeClient.connect(to: node.address, configuration: configuration)
        for index in 0..<50 { _ = try await client.recordStarted(namespace: "default", Self.execution("before-\(index)")) }
        let reserve = data + "/space-reserve"
        #expect((try FileManager.default.attributesOfItem(atPath: reserve)[.size] as? Int) == 32 << 20)

        // Fill the filesystem: every byte left goes to a ballast file.
        let free = try DiskSpaceGuard.freeBytes(data)
        #expect(try CLITests.runProgram("/usr/bin/fallocate", ["-l", "\(free)", data + "/ballast"]).status == 0)
        var refusal = ""
        #expect(await waitUntil(timeout: .seconds(10)) {
            do {
                _ = try await client.recordStarted(namespace: "default", Self.execution("during"))
                return false
            } catch let error as PeriscopeError {
                refusal = error.description
                return error.code == .unavailable && error.message.contains("below its floor")
            } catch {
                refusal = "\(error)"
                return false
            }
        }, "writes on a full disk: \(refusal)")
        #expect(refusal.contains("MiB free under \(data)"), "\(refusal)")
        #expect(!FileManager.default.fileExists(atPath: reserve), "the reserve is released when low")
        #expect(node.process.isRunning)
        let ready = try CLITests.runProgram("/usr/bin/curl", ["-s", "--http2-prior-knowledge", "http://\(node.address)/readyz"]).stdout
        #expect(ready.contains("not ready") && ready.contains("below its floor"), "\(ready)")
        let metrics = try CLITests.runProgram("/usr/bin/curl", ["-s", "--http2-prior-knowledge", "http://\(node.address)/metrics"]).stdout
        #expect(metrics.contains("periscope_disk_low 1"), "\(metrics.split(separator: "\n").filter { $0.contains("disk") })")
        // Reads still work.
        #expect(try await client.execution(namespace: "default", workflowID: "before-7", runID: "r", consistency: .strong)?.version == 1)

        // Space returns: writes are taken again, the reserve is held again, nothing was lost.
        try FileManager.default.removeItem(atPath: data + "/ballast")
        #expect(await waitUntil(timeout: .seconds(10)) {
            (try? await client.recordStarted(namespace: "default", Self.execution("after"))) != nil
        })
        #expect(FileManager.default.fileExists(atPath: reserve))
        // "during" may have landed in the half second before the guard read the free space.
        let during = try await client.execution(namespace: "default", workflowID: "during", runID: "r", consistency: .strong) != nil
        let count = try await client.count(namespace: "default", query: "", consistency: .strong)
        #expect(count.count == 51 + (during ? 1 : 0), "50 before, 1 after")
        await client.close()
        #expect(try await node.terminate() == 0)
    }

    @Test func badDiskOptionsAreRefused() throws {
        for (option, value) in [("--disk-floor-mb", "-1"), ("--disk-reserve-mb", "2000000000")] {
            let outcome = try CLITests.runProgram(CLITests.binary, ["node", "start", "\(option)=\(value)", "--data", "/nonexistent/never"])
            #expect(outcome.status == 64, "\(option) \(value): \(outcome.status) \(outcome.stderr)")
            #expect(outcome.stderr.contains("\(option) must be 0 ... 1073741824 MiB; got \(value)"), "\(outcome.stderr)")
        }
    }

    static func execution(_ id: String) -> Execution {
        .with {
            $0.workflowID = id
            $0.runID = "r"
            $0.version = 1
            $0.workflowType = "disk"
            $0.taskQueue = "q"
            $0.status = .running
            $0.startTime = .with { $0.seconds = 1_790_000_000 }
            $0.executionTime = $0.startTime
        }
    }
}
