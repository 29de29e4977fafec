import Foundation
import Testing
import PeriscopeStorage

/// Runs the built `periscope` binary as a separate process, as a user would.
@Suite struct CLITests {
    struct Outcome {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The binary sits next to the test bundle in SwiftPM's build directory.
    static let binary: String = {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        if directory.lastPathComponent == "MacOS" || directory.path.hasSuffix(".xctest/Contents") {
            directory = directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        }
        return directory.appendingPathComponent("periscope").path
    }()

    static func run(_ arguments: String...) throws -> Outcome {
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the periscope binary first: \(binary)")
        return try runProgram(binary, arguments)
    }

    static func runProgram(_ program: String, _ arguments: [String]) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// A crash-test subject: the binary started with its standard output going to a new
    /// file at `outputPath` (read while it runs), standard error discarded.
    static func startLogging(_ arguments: [String], to outputPath: String) throws -> (Process, FileHandle) {
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, output)
    }

    /// Kills a crash-test subject with SIGKILL and waits for it.
    static func killMinusNine(_ process: Process, output: FileHandle) throws {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try output.close()
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "periscope-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func versionAndHelp() throws {
        let version = try Self.run("version")
        #expect(version.status == 0)
        #expect(version.stdout == "periscope 0.1.0-dev\n")
        let help = try Self.run("--help")
        #expect(help.status == 0)
        #expect(help.stdout.contains("USAGE: periscope <subcommand>"))
        let bare = try Self.run()
        #expect(bare.status == 0)
        #expect(bare.stdout.contains("periscope node start") && bare.stdout.contains("not built yet"), "the binary says honestly what works")
    }

    @Test func unknownCommandIsAClearError() throws {
        let outcome = try Self.run("frobnicate")
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("Unexpected argument 'frobnicate'"))
    }

    @Test func inspectListsFamiliesAndSizes() throws {
        let path = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let db = try Database.open(at: path, columnFamilies: ["records": .init()])
            let records = try db.requireColumnFamily("records")
            for i in 0..<500 { try db.put(Array("k\(i)".utf8), Array(repeating: 1, count: 64), in: records, options: .buffered) }
            try db.flush()
        }
        let table = try Self.run("storage", "inspect", path)
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("column family"))
        #expect(table.stdout.contains("records"))

        let json = try Self.run("storage", "inspect", "--json", path)
        #expect(json.status == 0)
        struct Report: Decodable {
            struct Family: Decodable { let name: String; let estimatedKeys: Int; let liveSSTFilesBytes: Int }
            let path: String
            let columnFamilies: [Family]
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(json.stdout.utf8))
        #expect(report.path == path)
        #expect(report.columnFamilies.map(\.name) == ["default", "records"])
        let records = try #require(report.columnFamilies.last)
        #expect(records.estimatedKeys == 500)
        #expect(records.liveSSTFilesBytes > 0)
    }

    /// The real two-process case: this test process holds the database open, and a second
    /// process asking to write to it gets a clear "locked" error, and changes nothing.
    @Test func secondProcessGetsALockedErrorAndChangesNothing() throws {
        let path = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let holder = try Database.open(at: path)
        try holder.put(Array("k".utf8), Array("v".utf8))

        let outcome = try Self.run("storage", "compact", path)
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("(locked)"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("\(path)/LOCK"))
        #expect(try holder.get(Array("k".utf8)) == Array("v".utf8))

        // Read-only inspection takes no lock and works alongside the owner.
        let inspect = try Self.run("storage", "inspect", path)
        #expect(inspect.status == 0, "\(inspect.stderr)")

        try holder.close()
        let compacted = try Self.run("storage", "compact", path)
        #expect(compacted.status == 0, "\(compacted.stderr)")
        #expect(compacted.stdout.contains("default:"))
    }

    /// A database in a directory the user may not read is reported as such, not as "no
    /// database here". Root reads everything, so as root the binary runs as `nobody`.
    @Test func unreadableDirectoryIsAClearError() throws {
        let workspace = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: workspace) }
        let path = workspace + "/db"
        do {
            let db = try Database.open(at: path)
            try db.put(Array("k".utf8), Array("v".utf8))
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
        // The build directory may not be reachable by `nobody`; a copy in the workspace is.
        let binaryCopy = workspace + "/periscope"
        try FileManager.default.copyItem(atPath: Self.binary, toPath: binaryCopy)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: workspace)

        let outcome: Outcome
        if getuid() == 0 {
            outcome = try Self.runProgram("/usr/sbin/runuser", ["-u", "nobody", "--", binaryCopy, "storage", "inspect", path])
        } else {
            try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: path)
            defer { try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path) }
            outcome = try Self.runProgram(binaryCopy, ["storage", "inspect", path])
        }
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("Permission denied"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains(path))
        #expect(!outcome.stderr.contains("no database in this directory"))
    }

    @Test func missingDirectoryIsAClearErrorAndCreatesNothing() throws {
        let path = NSTemporaryDirectory() + "periscope-cli-missing-" + UUID().uuidString
        for command in [["storage", "inspect", path], ["storage", "compact", path]] {
            let outcome = try Self.run(command[0], command[1], command[2])
            #expect(outcome.status != 0)
            #expect(outcome.stderr.contains("no database in this directory"), "\(outcome.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
