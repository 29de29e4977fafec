import Dispatch
import Foundation
import PeriscopeModel

/// Test helpers shared by the test targets: running the external clients (curl, nghttp,
/// h2load, Python) that interop tests drive. Not linked into any product.
public struct ToolResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// The repository's root (this file is Sources/PeriscopeTestSupport/ExternalTool.swift).
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// Runs an external program to completion, killing it after `timeout`. Its output is read on
/// Dispatch threads, never on the cooperative pool: blocking reads there would starve the
/// server tasks the program is talking to (the pool has one thread per core).
public func runTool(_ executable: String, _ arguments: [String], stdin: String? = nil,
                    timeout: Duration = .seconds(60)) async throws -> ToolResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let stdout = Pipe(), stderr = Pipe(), input = Pipe()
    process.standardOutput = stdout
    process.standardError = stderr
    process.standardInput = stdin == nil ? FileHandle.nullDevice : input
    try process.run()
    if let stdin {
        DispatchQueue.global().async {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try? input.fileHandleForWriting.close()
        }
    }
    let killer = DispatchWorkItem { process.terminate() }
    DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(timeout.nanoseconds)), execute: killer)
    async let out = readToEnd(stdout.fileHandleForReading)
    async let err = readToEnd(stderr.fileHandleForReading)
    let (outData, errData) = await (out, err)
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        DispatchQueue.global().async {
            process.waitUntilExit()
            done.resume()
        }
    }
    killer.cancel()
    return ToolResult(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
}

private func readToEnd(_ handle: FileHandle) async -> Data {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(returning: handle.readDataToEndOfFile())
        }
    }
}
