import Foundation
import Testing

/// A `periscope node start` child process on a free loopback port, with its output in
/// files under its data directory's parent.
final class NodeProcess: @unchecked Sendable {
    // @unchecked: immutable after start; Process is safe to signal and query from any thread.
    let process: Process
    let directory: String
    let host: String
    let port: Int
    var address: String { "\(host):\(port)" }

    /// Starts a node on `data` and waits until it prints where it listens: within 90 s, as a
    /// region's nodes (two fresh-clone runs of `make test` saw six single nodes started at
    /// once beside the CPU-bound suites take over 30 s; alone, the same tests pass).
    /// `launcher`: a command that runs the binary (`setpriv … --` to run it as another user).
    /// `binary`: another copy of the executable (default: the build's).
    static func start(data: String, host: String = "127.0.0.1", port: Int = 0, extra: [String] = [],
                      timeout: Duration = .seconds(90), launcher: [String] = [], binary: String = CLITests.binary) async throws -> NodeProcess {
        let directory = (data as NSString).deletingLastPathComponent
        let stdoutPath = directory + "/node-\(UUID().uuidString.prefix(8)).out"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        let process = Process()
        let arguments = ["node", "start", "--data", data, "--host", host, "--port", "\(port)", "--log-level", "warning"] + extra
        process.executableURL = URL(fileURLWithPath: launcher.first ?? binary)
        process.arguments = launcher.isEmpty ? arguments : Array(launcher.dropFirst()) + [binary] + arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath + ".err").creatingFile())
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
            if let range = text.range(of: "listening on http://\(host):") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits), text[range.upperBound...].dropFirst(digits.count).first == " " {
                    return NodeProcess(process: process, directory: directory, host: host, port: port)
                }
            }
            guard process.isRunning else {
                let err = (try? String(contentsOfFile: stdoutPath + ".err", encoding: .utf8)) ?? ""
                throw NodeProcessError("the node exited with status \(process.terminationStatus) before listening: \(err)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.terminate()
        throw NodeProcessError("the node did not say where it listens within \(timeout)")
    }

    private init(process: Process, directory: String, host: String, port: Int) {
        self.process = process
        self.directory = directory
        self.host = host
        self.port = port
    }

    /// What the node wrote to stderr so far (its log).
    var log: String {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.filter { $0.hasSuffix(".out.err") }.compactMap { try? String(contentsOfFile: directory + "/" + $0, encoding: .utf8) }
            .joined(separator: "\n")
    }

    func killMinusNine() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    func terminate(timeout: Duration = .seconds(30)) async throws -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                killMinusNine()
                throw NodeProcessError("the node did not exit within \(timeout) of SIGTERM")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { killMinusNine() }
    }
}

struct NodeProcessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension URL {
    func creatingFile() -> URL {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        return self
    }
}
