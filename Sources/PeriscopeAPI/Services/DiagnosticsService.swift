import Foundation
import PeriscopeRPC

/// `periscope.v1.Diagnostics`: echo calls to measure a path and to exercise deadlines and
/// error statuses end to end. Every request field is bounded.
public struct DiagnosticsService: Sendable {
    public static let responseBytesMax = 16 << 20
    public static let delayMillisecondsMax = 60_000

    public init() {}

    public func register(in router: inout RPCRouter) {
        router.unary(DiagnosticsMethods.echo) { request, _ in
            try await Self.answer(request, sequence: 1)
        }
        router.bidirectionalStreaming(DiagnosticsMethods.echoStream) { requests, responses, _ in
            var sequence: UInt64 = 0
            for try await request in requests {
                sequence += 1
                try await responses.send(Self.answer(request, sequence: sequence))
            }
        }
    }

    static func answer(_ request: Periscope_V1_EchoRequest, sequence: UInt64) async throws -> Periscope_V1_EchoResponse {
        guard request.responseBytes <= responseBytesMax else {
            throw RPCStatus(.invalidArgument, "response_bytes \(request.responseBytes) exceeds the limit of \(responseBytesMax)")
        }
        guard request.delayMs <= delayMillisecondsMax else {
            throw RPCStatus(.invalidArgument, "delay_ms \(request.delayMs) exceeds the limit of \(delayMillisecondsMax)")
        }
        if request.delayMs > 0 {
            try await Task.sleep(for: .milliseconds(Int(request.delayMs)))
        }
        if request.failWithCode != 0 {
            guard let code = RPCStatus.Code(rawValue: Int(request.failWithCode)), code != .ok else {
                throw RPCStatus(.invalidArgument, "fail_with_code \(request.failWithCode) is not a gRPC status code (1...16)")
            }
            throw RPCStatus(code, request.failWithMessage)
        }
        return .with {
            $0.sequence = sequence
            $0.payload = request.responseBytes > 0
                ? Data(repeating: 0x2A, count: Int(request.responseBytes))
                : request.payload
        }
    }
}
