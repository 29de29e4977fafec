import Logging
import PeriscopeAPI
import PeriscopeHTTP2
import PeriscopeRPC
import Synchronization

/// How this node reaches the other regions of its deployment: one HTTP/2 connection per
/// node it talks to there (shared by every call and stream to it), the addresses each
/// region's nodes have (the deployment's seeds, refreshed from a region's own status when
/// none answers), and which regions fault injection has cut this node off from.
final class RegionLinks: Sendable {
    let directory: DeploymentDirectory
    let pool: RPCConnectionPool
    private let logger: Logger
    private struct State {
        /// Region → its nodes' addresses, the one that answered last first.
        var addresses: [String: [RPCEndpoint]] = [:]
        var isolated: Set<String> = []
    }
    private let state = Mutex(State())

    /// A call to another region waits at most this long by default.
    static let callTimeout: Duration = .seconds(5)

    init(directory: DeploymentDirectory, logger: Logger, localHost: String? = nil) {
        self.directory = directory
        self.logger = logger
        // Like peer connections within a region: a dead or cut-off node is noticed within
        // about two seconds even while a stream is blocked on flow control.
        pool = RPCConnectionPool(configuration: RaftTransport.peerConnection, localHost: localHost)
        state.withLock { state in
            for region in directory.others {
                state.addresses[region.name] = region.addresses.compactMap { try? RPCEndpoint($0) }
            }
        }
    }

    func close() async { await pool.close() }

    /// Where `region`'s nodes listen, as this node knows it.
    func addresses(of region: String) -> [RPCEndpoint] { state.withLock { $0.addresses[region] ?? [] } }

    // MARK: Fault injection (tests and chaos runs)

    /// Cuts this node off from `regions` (empty: heals): calls to them fail and theirs are refused.
    func isolate(from regions: Set<String>) {
        let cut = state.withLock { state -> [RPCEndpoint] in
            state.isolated = regions
            return regions.flatMap { state.addresses[$0] ?? [] }
        }
        Task { [pool] in for endpoint in cut { await pool.discardAll(for: endpoint) } }
    }

    var isolatedRegions: Set<String> { state.withLock { $0.isolated } }

    /// Throws UNAVAILABLE if fault injection cut this node off from `region`.
    func checkReachable(_ region: String) throws(RPCStatus) {
        if state.withLock({ $0.isolated.contains(region) }) {
            throw RPCStatus(.unavailable, "region \(directory.local.name) is cut off from region \(region) (fault injection)")
        }
    }

    // MARK: Calls

    /// A client for one of `region`'s nodes: `preferred` if given and it connects, else the
    /// first node of the region that does (refreshing the region's members when none does).
    func client(for region: String, preferring preferred: RPCEndpoint? = nil) async throws -> (RPCClient, RPCEndpoint) {
        try checkTarget(region)
        var candidates = addresses(of: region)
        if let preferred { candidates = [preferred] + candidates.filter { $0 != preferred } }
        var failures: [String] = []
        for endpoint in candidates {
            do {
                let client = try await pool.client(for: endpoint)
                if endpoint != candidates.first { promote(endpoint, in: region) }
                return (client, endpoint)
            } catch {
                failures.append("\(endpoint): \(error.message)")
            }
        }
        throw RPCStatus(.unavailable, "no node of region \(region) could be reached (\(failures.joined(separator: "; ")))")
    }

    /// One call to `region`, to the first of its nodes that answers; a node that cannot be
    /// reached, or answers UNAVAILABLE, is passed over for the next.
    func call<Request, Response>(_ region: String, _ method: RPCMethod<Request, Response>, _ request: Request,
                                 timeout: Duration = RegionLinks.callTimeout) async throws -> Response {
        try checkTarget(region)
        var failures: [String] = []
        for endpoint in addresses(of: region) {
            let response: Response
            do throws(RPCStatus) {
                response = try await pool.unary(endpoint, method, request, timeout: timeout)
            } catch {
                // Another of its nodes may answer; any other status is the region's answer.
                guard error.code == .unavailable || error.code == .deadlineExceeded else { throw error }
                failures.append("\(endpoint): \(error.message)")
                continue
            }
            promote(endpoint, in: region)
            return response
        }
        throw RPCStatus(.unavailable, "region \(region) did not answer \(method.name) (\(failures.joined(separator: "; ")))")
    }

    /// Learns `region`'s members from whichever of its nodes answers its cluster status
    /// (nodes added or replaced since the deployment was created).
    func refreshMembers(of region: String) async {
        guard let status = try? await call(region, AdminMethods.getClusterStatus, Periscope_V1_GetClusterStatusRequest()) else { return }
        let members = status.nodes.compactMap { try? RPCEndpoint($0.address) }
        guard !members.isEmpty else { return }
        state.withLock { state in
            let known = state.addresses[region] ?? []
            // Members first, in the order they answered; seeds kept behind them (a region
            // that loses every member still has its seeds to try).
            state.addresses[region] = members + known.filter { !members.contains($0) }
        }
    }

    /// Another region of the deployment, which fault injection has not cut off.
    private func checkTarget(_ region: String) throws(RPCStatus) {
        guard directory.region(named: region) != nil, region != directory.local.name else {
            throw RPCStatus(.invalidArgument, "region \(region) is not another region of the deployment (regions: "
                + "\(directory.names.joined(separator: ", ")))")
        }
        try checkReachable(region)
    }

    private func promote(_ endpoint: RPCEndpoint, in region: String) {
        state.withLock { state in
            guard var list = state.addresses[region], list.first != endpoint else { return }
            list.removeAll { $0 == endpoint }
            state.addresses[region] = [endpoint] + list
        }
    }
}
