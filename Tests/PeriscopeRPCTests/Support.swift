import Foundation
import NIOCore
import NIOPosix
import PeriscopeAPI
import PeriscopeHTTP2
import PeriscopeRPC
@_exported import PeriscopeTestSupport

/// A server with the health and diagnostics services on 127.0.0.1 and a free port.
func startRPCServer(limits: RPCLimits = .init(), configuration: HTTP2ConnectionConfiguration = .init(),
                    tls: HTTP2TLS.Server? = nil) async throws -> RPCServer {
    var router = RPCRouter()
    HealthService().register(in: &router)
    DiagnosticsService().register(in: &router)
    return try await RPCServer.start(host: "127.0.0.1", port: 0, router: router, limits: limits,
                                     configuration: configuration, tls: tls, group: MultiThreadedEventLoopGroup.singleton)
}

/// curl with prior-knowledge h2c, a JSON body, and `-w` printing the HTTP status last.
func curlJSON(port: Int, path: String, body: String, extra: [String] = []) async throws -> (status: Int, body: String) {
    let result = try await runTool("/usr/bin/curl", ["-sS", "--http2-prior-knowledge", "-H", "content-type: application/json",
                                                     "--data-binary", body, "-w", "\n%{http_code}"] + extra
                                                    + ["http://127.0.0.1:\(port)\(path)"])
    var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
    let status = Int(lines.popLast() ?? "") ?? -1
    return (status, lines.joined(separator: "\n"))
}
