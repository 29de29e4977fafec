import ArgumentParser
import Foundation
import PeriscopeClient
import SwiftProtobuf

/// Options every command that talks to a node takes.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "The node's address, host:port (or set PERISCOPE_ADDRESS).")
    var address: String = ProcessInfo.processInfo.environment["PERISCOPE_ADDRESS"] ?? "127.0.0.1:7280"

    @Option(name: .long, help: "Seconds one call may take in all, retries included (a hard bound: a call still unanswered then fails with exit status 69).")
    var timeout: Double = 30

    /// Connects, runs `body`, closes; a failure becomes a message on stderr and the exit
    /// status of `ClientExit`.
    func withClient<T>(_ body: (PeriscopeClient) async throws -> T) async throws -> T {
        var configuration = PeriscopeClient.Configuration()
        configuration.callTimeout = .milliseconds(Int64(timeout * 1_000))
        configuration.totalTimeout = configuration.callTimeout
        let client: PeriscopeClient
        do {
            client = try await PeriscopeClient.connect(to: address, configuration: configuration)
        } catch let error as PeriscopeError {
            throw ClientExit(error, hint: " (is a node running? start one with `periscope node start`)")
        }
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch let error as PeriscopeError {
            await client.close()
            throw ClientExit(error)
        } catch {
            await client.close()
            throw error
        }
    }
}

/// A failed call as the command's exit: the server's message on stderr and a status that
/// says what kind of failure it was (documented in docs/cli.md).
struct ClientExit: Error, CustomStringConvertible {
    let error: PeriscopeError
    let hint: String

    init(_ error: PeriscopeError, hint: String = "") {
        self.error = error
        self.hint = hint
    }

    var description: String { "error: \(error.message)\(hint)" }

    var status: Int32 {
        switch error.code {
        case .invalidArgument, .failedPrecondition, .resourceExhausted: 2
        case .notFound: 3
        case .alreadyExists: 4
        case .unavailable, .deadlineExceeded, .aborted, .cancelled: 69
        case .unimplemented: 65
        case .internal, .other: 70
        }
    }
}

extension AsyncParsableCommand {
    /// Runs a command body, turning `ClientExit` into its message and exit status.
    func reportingFailures(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let exit as ClientExit {
            FileHandle.standardError.write(Data((exit.description + "\n").utf8))
            throw ExitCode(exit.status)
        }
    }
}

/// Prints a protobuf message as JSON (the API's JSON mapping, as the server speaks it).
func printJSON(_ message: some SwiftProtobuf.Message) throws {
    var options = JSONEncodingOptions()
    options.alwaysPrintEnumsAsInts = false
    print(try message.jsonString(options: options))
}

/// `72h`, `3d`, `30m`, `90s` or a number of seconds.
func parseDuration(_ text: String) -> Duration? {
    let units: [(String, Int64)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]
    for (suffix, scale) in units where text.hasSuffix(suffix) {
        guard let value = Int64(text.dropLast(suffix.count)), value >= 0 else { return nil }
        return .seconds(value * scale)
    }
    return Int64(text).map { .seconds($0) }
}
