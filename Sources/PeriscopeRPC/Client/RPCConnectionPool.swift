import Foundation
import PeriscopeHTTP2
import Synchronization

/// A `host:port` to call.
public struct RPCEndpoint: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (an IPv6 host in brackets).
    public init(_ address: String) throws(RPCStatus) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (1...65_535).contains(port), colon != address.startIndex else {
            throw RPCStatus(.invalidArgument, "address '\(address)' is not host:port")
        }
        host = String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// One HTTP/2 connection per endpoint, shared by every call to it; a connection found down,
/// or that the server sent GOAWAY on, is replaced on the next request for it. Used by the
/// client library and by nodes calling each other.
///
/// Making a connection may take the whole connect timeout (10 s) when the peer's packets are
/// dropped (a partition), so a caller with a deadline waits for it at most that long
/// (`within`); the attempt goes on for whoever asks next.
public actor RPCConnectionPool {
    let tls: HTTP2TLS.Client?
    let configuration: HTTP2ConnectionConfiguration
    /// The IP address connections leave from (nil: the system's choice).
    let localHost: String?
    private var current: [RPCEndpoint: RPCClient] = [:]
    private var connecting: [RPCEndpoint: (attempt: UInt64, task: Task<RPCClient, any Error>)] = [:]
    private var attempts: UInt64 = 0

    public init(tls: HTTP2TLS.Client? = nil, configuration: HTTP2ConnectionConfiguration = .init(), localHost: String? = nil) {
        self.tls = tls
        self.configuration = configuration
        self.localHost = localHost
    }

    /// The open connection to `endpoint`, made if there is none. Throws UNAVAILABLE when it
    /// cannot be made, or (with `within`) is not made in that time.
    public func client(for endpoint: RPCEndpoint, within timeout: Duration? = nil) async throws(RPCStatus) -> RPCClient {
        if let client = current[endpoint] {
            if client.connection.acceptsNewStreams { return client }
            // Down, or draining after the server's GOAWAY: its open calls finish on it.
            current[endpoint] = nil
            if client.connection.isOpen { Task { await client.close() } }
        }
        // Callers arriving while a connection is being made share it.
        let task = connecting[endpoint]?.task ?? connect(to: endpoint)
        do {
            guard let timeout else { return try await task.value }
            guard let client = try await Self.value(of: task, within: timeout) else {
                throw RPCStatus(.unavailable, "cannot connect to \(endpoint) within \(timeout) (still trying)")
            }
            return client
        } catch let status as RPCStatus {
            throw status
        } catch {
            throw RPCStatus(.unavailable, "cannot connect to \(endpoint): \(error)")
        }
    }

    /// One call to `endpoint`, whose `timeout` covers making the connection as well.
    public nonisolated func unary<Request, Response>(_ endpoint: RPCEndpoint, _ method: RPCMethod<Request, Response>, _ request: Request,
                                                     timeout: Duration) async throws(RPCStatus) -> Response {
        let deadline = ContinuousClock.now + timeout
        let client = try await client(for: endpoint, within: timeout)
        return try await client.unary(method, request, timeout: max(.milliseconds(1), deadline - .now))
    }

    /// Starts connecting to `endpoint`; the attempt files its connection (or clears itself)
    /// when it ends, whether or not anyone still waits for it.
    private func connect(to endpoint: RPCEndpoint) -> Task<RPCClient, any Error> {
        attempts += 1
        let attempt = attempts
        let task = Task { [tls, configuration, localHost] in
            do {
                let client = try await RPCClient.connect(host: endpoint.host, port: endpoint.port, tls: tls, configuration: configuration,
                                                         localHost: localHost)
                self.settle(endpoint, attempt: attempt, client)
                return client
            } catch {
                self.settle(endpoint, attempt: attempt, nil)
                throw error
            }
        }
        connecting[endpoint] = (attempt, task)
        return task
    }

    private func settle(_ endpoint: RPCEndpoint, attempt: UInt64, _ client: RPCClient?) {
        guard connecting[endpoint]?.attempt == attempt else { return }
        connecting[endpoint] = nil
        if let client { current[endpoint] = client }
    }

    /// `task`'s value, or nil if it has not finished within `timeout` (it is left running).
    static func value<Value: Sendable>(of task: Task<Value, any Error>, within timeout: Duration) async throws -> Value? {
        let waiter = OnceContinuation<Value?>()
        return try await withCheckedThrowingContinuation { continuation in
            waiter.set(continuation)
            let timer = Task {
                try await Task.sleep(for: timeout)
                waiter.resume(with: .success(nil))
            }
            Task {
                let result = await task.result
                timer.cancel()
                waiter.resume(with: result.map { Optional($0) })
            }
        }
    }

    /// Drops `client` (found down) so the next request connects again.
    public func discard(_ client: RPCClient, for endpoint: RPCEndpoint) {
        if current[endpoint] === client { current[endpoint] = nil }
        Task { await client.close() }
    }

    /// Closes the connection to `endpoint`, if there is one; calls on it fail.
    public func discardAll(for endpoint: RPCEndpoint) {
        guard let client = current.removeValue(forKey: endpoint) else { return }
        Task { await client.close() }
    }

    public func close() async {
        let clients = current.values
        current = [:]
        for client in clients { await client.close() }
    }
}

/// A continuation that whichever of several racers comes first resumes; the others find it gone.
private final class OnceContinuation<Value: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<Value, any Error>?>(nil)

    func set(_ continuation: CheckedContinuation<Value, any Error>) { self.continuation.withLock { $0 = continuation } }

    func resume(with result: Result<Value, any Error>) { continuation.withLock { $0.take() }?.resume(with: result) }
}
