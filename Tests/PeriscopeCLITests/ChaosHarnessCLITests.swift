import Foundation
import Testing

/// `periscope-chaos` refuses bad options and topologies with a message that names them,
/// before it starts a node or touches a kernel rule.
@Suite struct ChaosHarnessCLITests {
    static let harness = (CLITests.binary as NSString).deletingLastPathComponent + "/periscope-chaos"

    static func run(_ arguments: [String]) throws -> CLITests.Outcome {
        try #require(FileManager.default.isExecutableFile(atPath: harness), "build periscope-chaos first: \(harness)")
        return try CLITests.runProgram(harness, arguments)
    }

    @Test func badOptionsAreRefusedByName() throws {
        for (arguments, says) in [
            (["--seeds", "x"], "'x' is not a seed or a range"),
            (["--seeds", "5-1"], "'5-1' is not a seed or a range"),
            (["--nemesis", "kill,bogus"], "unknown nemesis 'bogus'"),
            (["--duration", "1"], "--duration must be at least 5 seconds"),
            (["--clients", "0"], "--clients and --keys must be at least 1"),
        ] {
            let outcome = try Self.run(arguments)
            #expect(outcome.status == 64, "\(arguments): \(outcome.status) \(outcome.stderr)")
            #expect(outcome.stderr.contains(says), "\(arguments): \(outcome.stderr)")
        }
    }

    @Test func badTopologiesAreRefusedBeforeAnyNodeStarts() throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cases: [(String, String)] = [
            ("{\"shards\": 4, \"nodes\": [{\"id\": 1, \"host\": \"127.0.93.1\", \"port\": 7290}, {\"id\": 2, \"host\": \"127.0.93.2\", \"port\": 7290}]}",
             "needs a region of at least 3 nodes; it has 2"),
            ("{\"shards\": 4, \"nodes\": [{\"id\": 1, \"host\": \"127.0.93.1\", \"port\": 7290}, {\"id\": 2, \"host\": \"127.0.93.1\", \"port\": 7291}, {\"id\": 3, \"host\": \"127.0.93.3\", \"port\": 7290}]}",
             "every node needs its own address"),
            ("{\"shards\": 4, \"nodes\": [{\"id\": 1, \"host\": \"localhost\", \"port\": 7290}, {\"id\": 2, \"host\": \"127.0.93.2\", \"port\": 7290}, {\"id\": 3, \"host\": \"127.0.93.3\", \"port\": 7290}]}",
             "'localhost' is not an IPv4 address"),
            ("{\"shards\": 4", "cannot read the topology file"),
            // Deployments of regions.
            ("{\"shards\": 4, \"regions\": [{\"region\": \"A\", \"nodes\": [{\"id\": 1, \"host\": \"127.0.93.1\", \"port\": 7290}]}]}",
             "a deployment needs at least 2 regions"),
            ("{\"shards\": 4, \"regions\": [{\"region\": \"A\", \"nodes\": [{\"id\": 1, \"host\": \"127.0.93.1\", \"port\": 7290}]}, "
                + "{\"region\": \"A\", \"nodes\": [{\"id\": 1, \"host\": \"127.0.93.2\", \"port\": 7290}]}]}",
             "each with its own name"),
            ("{\"shards\": 4, \"regions\": [{\"region\": \"A\", \"nodes\": [{\"id\": 1, \"host\": \"127.0.93.1\", \"port\": 7290}]}, "
                + "{\"region\": \"B\", \"nodes\": []}]}",
             "region B needs at least one node"),
            ("{\"shards\": 4, \"regions\": [{\"region\": \"A\", \"nodes\": [{\"id\": 1, \"host\": \"127.0.93.1\", \"port\": 7290}]}, "
                + "{\"region\": \"B\", \"nodes\": [{\"id\": 1, \"host\": \"127.0.93.1\", \"port\": 7291}, {\"id\": 2, \"host\": \"127.0.93.3\", \"port\": 7290}]}]}",
             "every node needs its own address"),
            ("{\"shards\": 4, \"region\": \"x\", \"nodes\": [], \"regions\": []}", "not both or neither"),
        ]
        for (index, (text, says)) in cases.enumerated() {
            let path = directory + "/topology\(index).json"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let outcome = try Self.run(["--topology", path, "--nemesis", "kill", "--output", directory + "/runs"])
            #expect(outcome.status == 2, "\(text): \(outcome.status) \(outcome.stderr)")
            #expect(outcome.stderr.contains(says), "\(text): \(outcome.stderr)")
        }
        let missing = try Self.run(["--topology", directory + "/none.json", "--nemesis", "kill"])
        #expect(missing.status == 2 && missing.stderr.contains("cannot read the topology file"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/runs"), "nothing was started")
        // A region cut needs regions.
        let region3 = try Self.run(["--topology", "chaos/topologies/region3.json", "--nemesis", "region-cut", "--output", directory + "/runs"])
        #expect(region3.status == 2 && region3.stderr.contains("the region-cut nemesis needs a topology of several regions"), "\(region3.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/runs"), "nothing was started")
        let empty = try Self.run(["--summarize", directory])
        #expect(empty.status == 2 && empty.stderr.contains("no report.json under"), "\(empty.stderr)")
    }
}
