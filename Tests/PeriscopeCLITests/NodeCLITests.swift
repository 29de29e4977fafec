import Foundation
import PeriscopeTestSupport
import Testing

/// The CLI's node commands against a node child process: output and the documented exit
/// statuses (docs/cli.md).
@Suite(.serialized) struct NodeCLITests {
    @Test func namespaceAttributeLoadAndQueryCommands() async throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let node = try await NodeProcess.start(data: directory + "/data", extra: ["--shards", "3"])
        func cli(_ arguments: String...) throws -> CLITests.Outcome {
            try CLITests.runProgram(CLITests.binary, arguments + ["--address", node.address])
        }

        #expect(try cli("namespace", "create", "ops", "--retention", "48h").status == 0)
        let again = try cli("namespace", "create", "ops")
        #expect(again.status == 4 && again.stderr.contains("namespace ops already exists"), "\(again)")
        let missing = try cli("namespace", "describe", "nope")
        #expect(missing.status == 3 && missing.stderr.contains("namespace nope does not exist"), "\(missing)")
        let described = try cli("namespace", "describe", "ops")
        #expect(described.stdout.contains("retention:        172800 s"), "\(described.stdout)")

        #expect(try cli("search-attribute", "add", "--namespace", "ops", "Amount=Int").status == 0)
        let conflict = try cli("search-attribute", "add", "--namespace", "ops", "Amount=Keyword")
        #expect(conflict.status == 4 && conflict.stderr.contains("Amount"), "\(conflict)")

        func line(_ id: String, amount: String) -> String {
            #"{"started": {"execution": {"workflowId": "\#(id)", "runId": "r", "workflowType": "load", "taskQueue": "q", "#
                + #""status": "EXECUTION_STATUS_RUNNING", "startTime": "2026-11-25T10:00:00Z", "searchAttributes": {"Amount": \#(amount)}}}}"#
        }
        let file = directory + "/writes.jsonl"
        try ([line("a", amount: #"{"int": "1"}"#), line("b", amount: #"{"int": "2"}"#), line("c", amount: #"{"int": "3"}"#),
              line("bad", amount: #"{"keyword": "three"}"#)].joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let loaded = try cli("write", "load", file, "--namespace", "ops", "--batch", "2")
        #expect(loaded.status == 2, "a refused write makes the load exit 2: \(loaded)")
        #expect(loaded.stdout.contains("3 applied, 0 ignored (not newer), 1 refused") && loaded.stdout.contains("Amount"), "\(loaded.stdout)")

        let malformed = directory + "/malformed.jsonl"
        try (line("d", amount: #"{"int": "4"}"#) + "\n{\"started\": \n").write(toFile: malformed, atomically: true, encoding: .utf8)
        let refusedFile = try cli("write", "load", malformed, "--namespace", "ops")
        #expect(refusedFile.status == 64 && refusedFile.stderr.contains("malformed.jsonl:2"), "\(refusedFile)")

        let count = try cli("query", "count", "--namespace", "ops", "Amount >= 2")
        #expect(count.status == 0 && count.stdout == "2\n", "nothing of the malformed file was sent: \(count)")
        let listed = try cli("query", "list", "--namespace", "ops", "--json", "--page-size", "1", "ORDER BY Amount DESC")
        #expect(listed.stdout.split(separator: "\n").count == 3 && listed.stdout.hasPrefix(#"{"workflowId":"c""#), "\(listed.stdout)")
        let badQuery = try cli("query", "list", "--namespace", "ops", "Amount = 'x'")
        #expect(badQuery.status == 2 && badQuery.stderr.contains("Amount"), "\(badQuery)")
        let explained = try cli("query", "explain", "--namespace", "ops", "Amount >= 2")
        #expect(explained.status == 0 && explained.stdout.contains("shard 2:"), "\(explained.stdout)")

        #expect(try await node.terminate() == 0)
        let gone = try cli("query", "count", "--namespace", "ops")
        #expect(gone.status == 69 && gone.stderr.contains("is a node running?"), "\(gone)")
    }
}
