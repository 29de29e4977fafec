import Foundation
import PeriscopeTestSupport
import Testing

/// The node used without Swift: Python grpcio, and the README's quickstart run verbatim.
@Suite(.serialized) struct NodeInteropTests {
    @Test func pythonGrpcioWritesListsAndCounts() async throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let node = try await NodeProcess.start(data: directory + "/data")
        let python = "\(repositoryRoot)/.venv/bin/python"
        #expect(FileManager.default.isExecutableFile(atPath: python), "run scripts/setup.sh (make test does) to create .venv")
        let result = try await runTool(python, ["\(repositoryRoot)/Tests/Interop/visibility_client.py", node.address,
                                                "\(repositoryRoot)/Sources/PeriscopeAPI/proto"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("\n0 failed"), "\(result.stdout)")
        #expect(try await node.terminate() == 0)
    }

    /// The commands between the quickstart markers of README.md, each run as written by bash
    /// (with `periscope` on the PATH and PERISCOPE_ADDRESS naming the node this test started
    /// in place of `make run`); the output must show what the README says it shows.
    @Test func readmeQuickstartWorksVerbatim() async throws {
        let readme = try String(contentsOfFile: "\(repositoryRoot)/README.md", encoding: .utf8)
        let start = try #require(readme.range(of: "<!-- quickstart:begin -->"))
        let end = try #require(readme.range(of: "<!-- quickstart:end -->"))
        let block = readme[start.upperBound..<end.lowerBound]
        let commands = block.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("periscope ") }
            .map { line in line.range(of: "  #").map { String(line[..<$0.lowerBound]) } ?? line }
        #expect(commands.count >= 4, "the quickstart shows writes and queries")
        #expect(block.contains("make run"), "the quickstart starts the node with make run")

        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let node = try await NodeProcess.start(data: directory + "/data")
        let binDirectory = (CLITests.binary as NSString).deletingLastPathComponent
        var transcript = ""
        for command in commands {
            let result = try await runTool("/usr/bin/env", ["PATH=\(binDirectory):/usr/bin:/bin", "PERISCOPE_ADDRESS=\(node.address)",
                                                            "bash", "-c", command])
            #expect(result.status == 0, "\(command)\n\(result.stdout)\(result.stderr)")
            transcript += "$ \(command)\n\(result.stdout)"
        }
        #expect(transcript.contains("order-1") && transcript.contains("order-2"), "\(transcript)")
        #expect(transcript.contains("Completed"), "\(transcript)")
        #expect(try await node.terminate() == 0)
    }
}
