import Foundation
import PeriscopeHTTP2

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
/// or that the server sent GOAWAY on, is replaced on the next request for it. Used by the client library and by nodes calling
/// each other.
public actor RPCConnectionPool {
    let tls: HTTP2TLS.Client?
    let configuration: HTTP2ConnectionConfiguration
    /// The IP address connections leave from (nil: the system's choice).
    let localHost: String?
    private var current: [RPCEndpoint: RPCClient] = [:]
    private var connecting: [RPCEndpoint: Task<RPCClient, any Error>] = [:]

    public init(tls: HTTP2TLS.Client? = nil, configuration: HTTP2ConnectionConfiguration = .init(), localHost: String? = nil) {
        self.tls = tls
        self.configuration = configuration
        self.localHost = localHost
    }

    /// The open connection to `endpoint`, made if there is none. Throws UNAVAILABLE when it
    /// cannot be made.
    public func client(for endpoint: RPCEndpoint) async throws(RPCStatus) -> RPCClient {
        if let client = current[endpoint] {
            if client.connection.acceptsNewStreams { return client }
            // Down, or draining after the server's GOAWAY: its open calls finish on it.
            current[endpoint] = nil
            if client.connection.isOpen { Task { await client.close() } }
        }
        // Callers arriving while a connection is being made share it.
        let task = connecting[endpoint] ?? Task { [tls, configuration, localHost] in
            try await RPCClient.connect(host: endpoint.host, port: endpoint.port, tls: tls, configuration: configuration, localHost: localHost)
        }
        connecting[endpoint] = task
        do {
            let client = try await task.value
            if connecting[endpoint] == task {
                connecting[endpoint] = nil
                current[endpoint] = client
            }
            return client
        } catch {
            if connecting[endpoint] == task { connecting[endpoint] = nil }
            throw RPCStatus(.unavailable, "cannot connect to \(endpoint): \(error)")
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
