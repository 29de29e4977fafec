import Foundation
import NIOCore
import NIOPosix
import PeriscopeAPI
import PeriscopeHTTP2
import PeriscopeRPC

public typealias Execution = Periscope_V1_Execution
public typealias IndexedValueType = Periscope_V1_IndexedValueType
public typealias Namespace = Periscope_V1_Namespace

/// The library a workflow engine's server embeds to use Periscope: an async method for
/// every call of the visibility and admin services, over one HTTP/2 connection per node
/// shared by all calls (reconnected when it drops); writes go straight to the leader of
/// their shard (a cached shard map, refreshed when a node answers that it is not the
/// leader); deadlines, and retries with
/// jittered exponential backoff where they are safe: writes (idempotent by version) and
/// reads, never namespace changes, whose retry could not tell its own success from a
/// conflict.
///
///     let client = try await PeriscopeClient.connect(to: "127.0.0.1:7280")
///     let written = try await client.recordStarted(namespace: "default", execution)
///     let page = try await client.list(namespace: "default", query: "WorkflowType = 'order'",
///                                      consistency: .readYourWrites(written.consistencyToken))
///     for try await execution in client.executions(namespace: "default", query: "") { … }
public final class PeriscopeClient: Sendable {
    public struct Configuration: Sendable {
        /// Deadline of one attempt (sent as `grpc-timeout`).
        public var callTimeout: Duration = .seconds(10)
        /// When set, a hard bound on a whole call, retries and their backoff included: no
        /// attempt outlives it (each is sent with the time left) and none starts after it.
        public var totalTimeout: Duration?
        public var retry = RetryPolicy()
        public var tls: HTTP2TLS.Client?
        /// Send writes to their shard's leader (from the shard map) rather than to the
        /// node the client was given, which would forward them.
        public var routesWritesToLeaders = true
        /// The IP address the client's connections leave from (nil: the system's choice), for
        /// a host with several addresses whose firewall rules name one.
        public var localAddress: String?
        public init() {}
    }

    /// Exponential backoff with full jitter: attempt n waits a random time in
    /// [0, min(maxBackoff, initialBackoff × 2ⁿ)].
    public struct RetryPolicy: Sendable {
        public var attemptsMax = 6
        public var initialBackoff: Duration = .milliseconds(25)
        public var maxBackoff: Duration = .seconds(1)
        public init() {}

        public static let none: RetryPolicy = { var policy = RetryPolicy(); policy.attemptsMax = 1; return policy }()
    }

    public let configuration: Configuration
    let seed: RPCEndpoint
    let pool: RPCConnectionPool
    let routing = LeaderRouting()
    let homes = HomeRouting()

    /// Connects to a node at `address` (`host:port`); fails if the first connection cannot
    /// be made. Later drops are reconnected on the next call.
    public static func connect(to address: String, configuration: Configuration = Configuration()) async throws -> PeriscopeClient {
        let client = PeriscopeClient(address: try endpoint(address), configuration: configuration)
        do { _ = try await client.pool.client(for: client.seed) } catch { throw PeriscopeError(error) }
        return client
    }

    init(address: RPCEndpoint, configuration: Configuration) {
        self.configuration = configuration
        seed = address
        pool = RPCConnectionPool(tls: configuration.tls, localHost: configuration.localAddress)
    }

    public func close() async { await pool.close() }

    /// One call with the client's deadline, to the node `route` names; retried on
    /// transient failures when `idempotent`. A "not the leader" answer or an unreachable
    /// leader drops the cached shard map, so the retry routes by a fresh one. A write
    /// refused because the seed's region is not its namespace's home is sent again to the
    /// home the refusal names (`HomeRouting`).
    func call<Request, Response>(_ method: RPCMethod<Request, Response>, _ request: Request,
                                 idempotent: Bool = true, route: CallRoute = .anyNode) async throws(PeriscopeError) -> Response {
        let attempts = idempotent ? max(1, configuration.retry.attemptsMax) : 1
        var attempt = 0
        var homesFollowed = 0
        // A write's namespace: its writes may have a home in another region than the seed's.
        let homed: String? = if case .execution(let namespace, _) = route { namespace } else { nil }
        let deadline = configuration.totalTimeout.map { ContinuousClock.now + $0 }
        var lastFailure: PeriscopeError?
        while true {
            // Each attempt's deadline: the call timeout, or what is left of the total if less.
            var attemptTimeout = configuration.callTimeout
            if let deadline {
                let left = deadline - ContinuousClock.now
                guard left > .milliseconds(1) else {
                    throw PeriscopeError(code: .deadlineExceeded, message: "no answer within \(configuration.totalTimeout!) (\(attempt) "
                        + "attempt\(attempt == 1 ? "" : "s")" + (lastFailure.map { "; the last: \($0.message)" } ?? "") + ")")
                }
                attemptTimeout = min(attemptTimeout, left)
            }
            // Connecting, routing and the call itself share the attempt's deadline: a node cut
            // off by a partition takes the whole connect timeout (10 s) to refuse a connection.
            let attemptDeadline = ContinuousClock.now + attemptTimeout
            // The region the call goes to: the namespace's home if it was learned, else the seed's.
            let home = if let homed { await homes.seed(for: homed) } else { RPCEndpoint?.none }
            let regionSeed = home ?? seed
            let regionRouting = if let home { await homes.routing(for: home) } else { routing }
            var target = regionSeed
            do throws(PeriscopeError) {
                if case .execution(let namespace, let workflowID) = route, configuration.routesWritesToLeaders {
                    let seedClient: RPCClient
                    do { seedClient = try await pool.client(for: regionSeed, within: attemptTimeout) } catch {
                        throw PeriscopeError(error)
                    }
                    do {
                        target = try await regionRouting.leader(namespace: namespace, workflowID: workflowID, via: seedClient,
                                                                timeout: LeaderRouting.left(until: attemptDeadline)) ?? regionSeed
                    } catch {
                        throw PeriscopeError(error)
                    }
                }
                let client: RPCClient
                do {
                    client = try await pool.client(for: target, within: LeaderRouting.left(until: attemptDeadline))
                } catch {
                    if target != regionSeed { await regionRouting.invalidate() }
                    throw PeriscopeError(error)
                }
                do {
                    let response = try await client.unary(method, request, timeout: LeaderRouting.left(until: attemptDeadline))
                    if let homed, home != nil { await homes.succeeded(homed) }
                    return response
                } catch {
                    // A connection that is down is replaced on the next attempt; an UNAVAILABLE
                    // the server sent (stopping, no leader) leaves the shared connection be.
                    if !client.connection.isOpen {
                        await pool.discard(client, for: target)
                        if target != regionSeed { await regionRouting.invalidate() }
                    }
                    let failure = PeriscopeError(error)
                    // A leader that does not answer in time may be cut off or stopped (its
                    // connection stays open): the next call asks for the shard map again
                    // instead of waiting on it until the partition heals (the chaos harness
                    // saw the majority side of a split nearly idle for the whole fault).
                    if failure.isNotLeader || (failure.code == .deadlineExceeded && target != regionSeed) {
                        await regionRouting.invalidate()
                    }
                    throw failure
                }
            } catch {
                if let homed, let addresses = error.homeAddresses, homesFollowed < Self.homesFollowedMax {
                    homesFollowed += 1
                    await homes.learn(homed, addresses: addresses)
                    continue
                }
                // The attempt failed at the home's node it went through (cut off, paused,
                // gone) while connecting, routing or calling: the next tries the home's next node.
                if let homed, let home, target == home, error.code == .deadlineExceeded || error.code == .unavailable {
                    await homes.failed(homed, at: home)
                }
                attempt += 1
                lastFailure = error
                guard error.isTransient, attempt < attempts else { throw error }
                let ceiling = min(configuration.retry.maxBackoff, configuration.retry.initialBackoff * (1 << min(attempt, 20)))
                var pause = ceiling * Double.random(in: 0...1)
                if let deadline { pause = min(pause, max(.zero, deadline - ContinuousClock.now)) }
                try? await Task.sleep(for: pause)
            }
        }
    }

    /// Homes one call follows (a namespace failing over again while a write chases it).
    static let homesFollowedMax = 3
}

/// `host:port`.

func endpoint(_ address: String) throws(PeriscopeError) -> RPCEndpoint {
    do { return try RPCEndpoint(address) } catch { throw PeriscopeError(error) }
}
