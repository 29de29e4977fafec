import ArgumentParser
import Dispatch
import Foundation
import NIOCore
import NIOPosix
import PeriscopeAPI
import PeriscopeHTTP2
import PeriscopeRPC

struct RPCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rpc",
        abstract: "The HTTP/2 RPC layer on its own.",
        subcommands: [RPCServeCommand.self]
    )
}

struct RPCServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve grpc.health.v1.Health and periscope.v1.Diagnostics over HTTP/2.",
        discussion: """
            h2c with prior knowledge, or TLS with ALPN h2 when --tls-cert and --tls-key are given. \
            Every method answers gRPC (application/grpc) and JSON (application/json). \
            SIGINT or SIGTERM: GOAWAY to every client, in-flight calls finish, exit 0. \
            Used by the interop tests and scripts/bench-http2.sh.
            """
    )

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 7280
    @Option(help: "PEM certificate chain; enables TLS.") var tlsCert: String?
    @Option(help: "PEM private key for --tls-cert.") var tlsKey: String?
    @Option(help: "Event-loop threads (default: one per core).") var threads = System.coreCount
    @Option(help: "SETTINGS_MAX_CONCURRENT_STREAMS announced to clients.") var maxConcurrentStreams = 1_024

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) {
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        var router = RPCRouter()
        HealthService().register(in: &router)
        DiagnosticsService().register(in: &router)
        var configuration = HTTP2ConnectionConfiguration()
        configuration.settings.maxConcurrentStreams = maxConcurrentStreams
        let tls = tlsCert.map { HTTP2TLS.Server(certificateChainPath: $0, privateKeyPath: tlsKey!) }
        let server: RPCServer
        do {
            server = try await RPCServer.start(host: host, port: port, router: router, configuration: configuration,
                                               tls: tls, group: group)
        } catch {
            throw ValidationError("cannot listen on \(host):\(port): \(error)")
        }
        let scheme = tls == nil ? "http" : "https"
        let mode = tls == nil ? "h2c, prior knowledge" : "TLS, ALPN h2"
        let address = "\(scheme)://\(host):\(server.localAddress.port!)"
        print("periscope rpc: listening on \(address) (\(mode)), \(threads) event-loop threads")
        print("  try: curl --http2-prior-knowledge -H 'content-type: application/json' -d '{}' "
            + "\(address)/grpc.health.v1.Health/Check")
        fflush(nil)
        await waitForTerminationSignal()
        print("periscope rpc: shutting down (GOAWAY, draining in-flight calls)")
        await server.shutdown()
        try await group.shutdownGracefully()
    }
}

/// Suspends until SIGINT or SIGTERM arrives.
func waitForTerminationSignal() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let resumed = ResumeOnce(continuation)
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { resumed.resume() }
            source.resume()
            SignalSources.keep(source)
        }
    }
}

private final class ResumeOnce: @unchecked Sendable {
    private var continuation: CheckedContinuation<Void, Never>?
    private let lock = NSLock()
    init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = continuation }
    func resume() {
        lock.lock()
        let pending = continuation
        continuation = nil
        lock.unlock()
        pending?.resume()
    }
}

/// Signal sources must outlive the wait; the process ends soon after anyway.
private enum SignalSources {
    nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []
    static func keep(_ source: any DispatchSourceSignal) { sources.append(source) }
}
