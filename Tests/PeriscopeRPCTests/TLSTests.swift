import Foundation
import NIOCore
import NIOPosix
import PeriscopeAPI
import PeriscopeHTTP2
import PeriscopeRPC
import Testing

/// TLS with ALPN h2, with a certificate made by openssl for the test.
@Suite("RPC over TLS (ALPN h2)")
struct TLSTests {
    /// A self-signed certificate for localhost and 127.0.0.1.
    func makeCertificate() async throws -> (certificate: String, key: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("periscope-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificate = "\(directory)/cert.pem", key = "\(directory)/key.pem"
        let result = try await runTool("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", key, "-out", certificate,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        return (certificate, key)
    }

    @Test func swiftClientAndCurlOverTLS() async throws {
        let (certificate, key) = try await makeCertificate()
        let server = try await startRPCServer(tls: HTTP2TLS.Server(certificateChainPath: certificate, privateKeyPath: key))
        let port = server.localAddress.port!

        let client = try await RPCClient.connect(host: "127.0.0.1", port: port,
                                                 tls: .init(trust: .certificates(pemPath: certificate), serverHostname: "localhost"))
        let health = try await client.unary(HealthMethods.check, .init())
        #expect(health.status == .serving)
        let big = Data(repeating: 0x5A, count: 1 << 20)
        #expect(try await client.unary(DiagnosticsMethods.echo, .with { $0.payload = big }).payload == big)
        await client.close()

        let curl = try await runTool("/usr/bin/curl", [
            "-sS", "--http2", "--cacert", certificate, "--resolve", "localhost:\(port):127.0.0.1",
            "-H", "content-type: application/json", "-d", "{}", "-w", "\n%{http_version} %{http_code}",
            "https://localhost:\(port)/grpc.health.v1.Health/Check",
        ])
        #expect(curl.stdout == "{\"status\":\"SERVING\"}\n2 200", "\(curl.stderr)")

        // Python grpcio over TLS: the same checks as over h2c.
        let python = try await runTool("\(repositoryRoot)/.venv/bin/python", [
            "\(repositoryRoot)/Tests/Interop/grpc_client.py", "127.0.0.1:\(port)",
            "\(repositoryRoot)/Sources/PeriscopeAPI/proto", certificate,
        ])
        #expect(python.status == 0 && python.stdout.contains("0 failed"), "\(python.stdout)\n\(python.stderr)")

        // A client without our CA is refused by its own verification; the server stays up.
        let untrusted = try await runTool("/usr/bin/curl", ["-sS", "--http2", "-o", "/dev/null",
                                                            "https://127.0.0.1:\(port)/grpc.health.v1.Health/Check"])
        #expect(untrusted.status != 0)
        // Plain h2c against the TLS port fails; the server stays up.
        let plain = try await runTool("/usr/bin/curl", ["-sS", "--http2-prior-knowledge", "--max-time", "5", "-o", "/dev/null",
                                                       "http://127.0.0.1:\(port)/grpc.health.v1.Health/Check"])
        #expect(plain.status != 0)
        let again = try await RPCClient.connect(host: "127.0.0.1", port: port,
                                                tls: .init(trust: .certificates(pemPath: certificate), serverHostname: "localhost"))
        #expect(try await again.unary(HealthMethods.check, .init()).status == .serving)
        await again.close()
        await server.shutdown()
    }
}
