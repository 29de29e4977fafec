import Foundation
import PeriscopeAPI
import PeriscopeRPC

/// Keeps namespace metadata the same in every region. On the node leading its region's
/// catalog, every `namespaceSyncInterval` and whenever the catalog changes: compare every
/// namespace's version with each other region's, take theirs where newer (proposed as
/// `replicate`, which the catalog applies only if still newer), offer ours where newer.
/// Versions order the changes (the home makes them; a failover raises the failover version),
/// so regions may skip versions but never apply an older one after a newer one.
struct NamespaceSync {
    let node: VisibilityNode

    func run() async {
        guard node.deployment.isMultiRegion else { return }
        var seen = node.catalogChanged.rings
        while !Task.isCancelled {
            if node.catalogGroup.status.leader == node.nodeID {
                await withTaskGroup(of: Void.self) { tasks in
                    for region in node.deployment.others { tasks.addTask { await sync(with: region.name) } }
                }
            }
            await node.catalogChanged.wait(after: seen, timeout: node.configuration.namespaceSyncInterval)
            seen = node.catalogChanged.rings
        }
    }

    private func sync(with region: String) async {
        do {
            let theirs = try await node.links.call(region, RegionPeerMethods.getNamespaceVersions, .with { $0.deploymentID = node.deployment.id })
            let remote = Dictionary(theirs.namespaces.map { ($0.name, NamespaceVersion(failoverVersion: $0.failoverVersion,
                                                                                      metadataVersion: $0.metadataVersion)) },
                                    uniquingKeysWith: max)
            let local = Dictionary(node.catalog.namespaces.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            let wanted = remote.filter { name, version in local[name].map { $0.version < version } ?? true }.keys.sorted()
            if !wanted.isEmpty {
                let answer = try await node.links.call(region, RegionPeerMethods.getNamespaces, .with {
                    $0.deploymentID = node.deployment.id
                    $0.names = wanted
                })
                _ = try await node.takeNamespaces(try answer.entries.map(Self.decode), from: region)
            }
            let offered = local.values.filter { entry in remote[entry.name].map { $0 < entry.version } ?? true }
            if !offered.isEmpty {
                _ = try await node.links.call(region, RegionPeerMethods.offerNamespaces, .with {
                    $0.deploymentID = node.deployment.id
                    $0.fromRegion = node.region
                    $0.entries = offered.map(Self.encode)
                })
            }
        } catch {
            node.logger.debug("namespace sync with a region failed; it is tried again", metadata: ["region": "\(region)", "error": "\(error)"])
        }
    }

    static func encode(_ entry: NamespaceEntry) -> Data { (try? JSONEncoder().encode(entry)) ?? Data() }

    static func decode(_ data: Data) throws -> NamespaceEntry {
        do { return try JSONDecoder().decode(NamespaceEntry.self, from: data) } catch {
            throw RPCStatus(.invalidArgument, "an undecodable namespace entry: \(error)")
        }
    }
}

extension VisibilityNode {
    /// Takes namespaces another region has, each if it is newer than this region's copy;
    /// returns the names taken. A newer failover version that replaces changes this region
    /// made under an older one says so in the log: those changes lost.
    func takeNamespaces(_ entries: [NamespaceEntry], from region: String) async throws -> [String] {
        var taken: [String] = []
        for entry in entries {
            let stored = catalog.namespace(named: entry.name)
            guard stored.map({ NamespaceCatalog.isNewer(entry, than: $0) }) ?? true else { continue }
            do {
                _ = try await changeCatalog(.replicate(entry))
            } catch let refusal as CatalogRefusal where refusal.code == .alreadyExists {
                continue  // a newer copy arrived meanwhile
            }
            taken.append(entry.name)
            if let stored, stored.failoverVersion < entry.failoverVersion, stored.metadataVersion >= entry.metadataVersion {
                logger.warning("a namespace change made here lost to a failover", metadata: [
                    "namespace": "\(entry.name)", "replaced": "\(stored.version)", "by": "\(entry.version) from region \(region)",
                ])
            }
            if stored?.homeRegion != entry.homeRegion {
                logger.notice("namespace home moved", metadata: [
                    "namespace": "\(entry.name)", "home": "\(entry.homeRegion)", "failover_version": "\(entry.failoverVersion)",
                ])
            }
        }
        return taken
    }
}
