import PeriscopeRPC

/// The client's cache of namespace homes in other regions. A write sent to a region that is
/// not its namespace's home is refused with the home's name and its nodes' addresses; the
/// client remembers them and sends that namespace's writes there (to the shard's leader,
/// with a routing table of that region) until the home refuses them in turn (a failover
/// moved it again). A home node that cannot be reached or does not answer in time is passed
/// over for the home's next node; when none can be, the client asks the seed's region anew.
actor HomeRouting {
    private var homes: [String: [RPCEndpoint]] = [:]
    private var routings: [RPCEndpoint: LeaderRouting] = [:]
    /// Nodes of a home that failed one after the other, by namespace.
    private var failedInARow: [String: Int] = [:]
    /// Namespaces whose writes the client follows to another region (bounds the cache).
    static let namespacesMax = 10_000

    /// A node of the home region of `namespace`, if it is not the seed's region.
    func seed(for namespace: String) -> RPCEndpoint? { homes[namespace]?.first }

    func learn(_ namespace: String, addresses: [RPCEndpoint]) {
        if homes[namespace] == nil, homes.count >= Self.namespacesMax { homes.removeAll() }
        homes[namespace] = addresses
    }

    func forget(_ namespace: String) {
        homes[namespace] = nil
        failedInARow[namespace] = nil
    }

    /// An attempt through `endpoint`, the home's node the client used, failed as a node that
    /// is cut off, paused or gone fails: the home's next node is used from now on. Once every
    /// node of the home has failed in a row, the home is forgotten, and the next attempt asks
    /// the seed's region anew (the namespace may have failed over to a region it names).
    func failed(_ namespace: String, at endpoint: RPCEndpoint) {
        guard var addresses = homes[namespace], addresses.first == endpoint else { return }
        let failures = (failedInARow[namespace] ?? 0) + 1
        guard failures < addresses.count else { return forget(namespace) }
        addresses.append(addresses.removeFirst())
        homes[namespace] = addresses
        failedInARow[namespace] = failures
    }

    /// A call through the home's current node succeeded.
    func succeeded(_ namespace: String) { failedInARow[namespace] = nil }

    /// The routing table of the region `seed` belongs to.
    func routing(for seed: RPCEndpoint) -> LeaderRouting {
        if let routing = routings[seed] { return routing }
        let routing = LeaderRouting()
        routings[seed] = routing
        return routing
    }
}

extension PeriscopeError {
    /// The home region's node addresses, when a node refused a write because its region is
    /// not the namespace's home (`namespace N is not active in region X: its home is region
    /// B (host:port, ...)`); nil for any other error.
    var homeAddresses: [RPCEndpoint]? {
        guard code == .failedPrecondition, message.contains("is not active in region"),
              let marker = message.range(of: "its home is region "),
              let open = message[marker.upperBound...].firstIndex(of: "("),
              let close = message[open...].firstIndex(of: ")") else { return nil }
        let addresses = message[message.index(after: open)..<close].split(separator: ",")
            .compactMap { try? RPCEndpoint($0.trimmingCharacters(in: .whitespaces)) }
        return addresses.isEmpty ? nil : addresses
    }
}
