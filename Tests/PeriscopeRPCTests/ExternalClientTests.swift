import Foundation
import PeriscopeAPI
import PeriscopeRPC
import Testing

/// Clients nobody here wrote: Python grpcio (stubs generated from our .proto files) and curl.
@Suite("RPC interop with grpcio and curl")
struct ExternalClientTests {
    @Test func pythonGrpcioClient() async throws {
        let server = try await startRPCServer()
        let python = "\(repositoryRoot)/.venv/bin/python"
        #expect(FileManager.default.isExecutableFile(atPath: python), "run scripts/setup.sh (make test does) to create .venv")
        let result = try await runTool(python, ["\(repositoryRoot)/Tests/Interop/grpc_client.py",
                                                "127.0.0.1:\(server.localAddress.port!)",
                                                "\(repositoryRoot)/Sources/PeriscopeAPI/proto"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("0 failed"))
        #expect(!result.stdout.split(separator: "\n").contains { $0.hasPrefix("FAIL ") }, "\(result.stdout)")
        await server.shutdown()
    }

    @Test func curlCallsJSONMethods() async throws {
        let server = try await startRPCServer()
        let port = server.localAddress.port!
        let health = try await curlJSON(port: port, path: "/grpc.health.v1.Health/Check", body: "{}")
        #expect(health.status == 200)
        #expect(health.body == #"{"status":"SERVING"}"#)

        let echo = try await curlJSON(port: port, path: "/periscope.v1.Diagnostics/Echo", body: #"{"payload":"aGVsbG8="}"#)
        #expect(echo.body == #"{"payload":"aGVsbG8=","sequence":"1"}"#)

        let stream = try await curlJSON(port: port, path: "/periscope.v1.Diagnostics/EchoStream",
                                        body: "{\"payload\":\"YQ==\"}\n{\"payload\":\"Yg==\"}\n")
        #expect(stream.body == "{\"payload\":\"YQ==\",\"sequence\":\"1\"}\n{\"payload\":\"Yg==\",\"sequence\":\"2\"}\n")

        let malformed = try await curlJSON(port: port, path: "/periscope.v1.Diagnostics/Echo", body: #"{"payload": 12"#)
        #expect(malformed.status == 400)
        #expect(malformed.body.contains(#""status":"INVALID_ARGUMENT""#))
        #expect(malformed.body.contains("not a valid periscope.v1.EchoRequest"))

        let unknownField = try await curlJSON(port: port, path: "/periscope.v1.Diagnostics/Echo", body: #"{"nope": 1}"#)
        #expect(unknownField.status == 400)

        let unknown = try await curlJSON(port: port, path: "/periscope.v1.Nothing/Here", body: "{}")
        #expect(unknown.status == 501)
        #expect(unknown.body.contains("unknown method /periscope.v1.Nothing/Here"))

        let failing = try await curlJSON(port: port, path: "/periscope.v1.Diagnostics/Echo",
                                         body: #"{"failWithCode": 5, "failWithMessage": "no such \"execution\""}"#)
        #expect(failing.status == 404)
        let decoded = try JSONSerialization.jsonObject(with: Data(failing.body.utf8)) as? [String: Any]
        #expect(decoded?["message"] as? String == #"no such "execution""#)

        let late = try await curlJSON(port: port, path: "/periscope.v1.Diagnostics/Echo", body: #"{"delayMs": 2000}"#,
                                      extra: ["-H", "grpc-timeout: 100m"])
        #expect(late.status == 504)
        #expect(late.body.contains("DEADLINE_EXCEEDED"))

        let wrongType = try await runTool("/usr/bin/curl", ["-sS", "--http2-prior-knowledge", "-H", "content-type: text/xml",
                                                            "-d", "<x/>", "-w", "%{http_code}",
                                                            "http://127.0.0.1:\(port)/grpc.health.v1.Health/Check"])
        #expect(wrongType.stdout.hasSuffix("415"))
        await server.shutdown()
    }
}
