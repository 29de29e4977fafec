import PeriscopeRPC
import Synchronization

/// The standard gRPC health service. The empty service name is the server as a whole;
/// other names are the services registered with `setStatus`.
public final class HealthService: Sendable {
    public typealias Status = Grpc_Health_V1_HealthCheckResponse.ServingStatus
    private let statuses = Mutex<[String: Status]>(["": .serving])
    /// How often Watch looks for a change (it sends only changes).
    private let watchPollInterval: Duration

    public init(watchPollInterval: Duration = .milliseconds(200)) {
        self.watchPollInterval = watchPollInterval
    }

    public func setStatus(_ status: Status, for service: String = "") {
        statuses.withLock { $0[service] = status }
    }

    public func status(of service: String) -> Status? {
        statuses.withLock { $0[service] }
    }

    public func register(in router: inout RPCRouter) {
        // On the event loop: a liveness probe must not queue behind busy handlers.
        router.unaryOnEventLoop(HealthMethods.check) { request, _ in
            guard let status = self.status(of: request.service) else {
                throw RPCStatus(.notFound, "no health status for service '\(request.service)'")
            }
            return .with { $0.status = status }
        }
        router.serverStreaming(HealthMethods.watch) { request, responses, _ in
            var last: Status?
            while !Task.isCancelled {
                let current = self.status(of: request.service) ?? .serviceUnknown
                if current != last {
                    try await responses.send(.with { $0.status = current })
                    last = current
                }
                try await Task.sleep(for: self.watchPollInterval)
            }
        }
    }
}
