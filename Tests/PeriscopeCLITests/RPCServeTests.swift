import Foundation
import Testing

/// `periscope rpc serve` as a user runs it: a real process, curl as the client, SIGTERM to stop.
@Suite struct RPCServeTests {
    @Test func servesHealthOverH2cAndStopsCleanlyOnSIGTERM() throws {
        try #require(FileManager.default.isExecutableFile(atPath: CLITests.binary))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLITests.binary)
        process.arguments = ["rpc", "serve", "--host", "127.0.0.1", "--port", "0", "--threads", "1"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        defer { if process.isRunning { process.interrupt(); process.waitUntilExit() } }

        // The first line names the address; port 0 means the kernel chose it.
        var banner = ""
        let deadline = Date().addingTimeInterval(30)
        while !banner.contains("\n"), Date() < deadline {
            banner += String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        }
        let address = try #require(banner.split(separator: " ").first { $0.hasPrefix("http://127.0.0.1:") },
                                   "no address in: \(banner)")

        let curl = try CLITests.runProgram("/usr/bin/curl", [
            "-sS", "--http2-prior-knowledge", "-H", "content-type: application/json", "-d", "{}",
            "\(address)/grpc.health.v1.Health/Check",
        ])
        #expect(curl.stdout == #"{"status":"SERVING"}"#, "\(curl.stderr)")

        process.terminate()  // SIGTERM
        process.waitUntilExit()
        let rest = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
        #expect(rest.contains("shutting down"), "\(rest)")
    }
}
