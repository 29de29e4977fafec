import Foundation
import PeriscopeAPI
import PeriscopeModel
import PeriscopeRPC
import SwiftProtobuf

/// The namespace and search-attribute methods of the visibility service: changes go
/// through the catalog's Raft group, reads come from its in-memory copy. In a deployment of
/// several regions a change is made where it is ordered, forwarded there if asked elsewhere
/// (creations in the deployment's first region, other changes in the namespace's home), and
/// the answer is taken into this region's catalog at once.
extension VisibilityService {
    func registerNamespaceAdministration(in router: inout RPCRouter) {
        route(VisibilityMethods.createNamespace, &router, kind: "admin") { request in
            let retention = request.hasRetention ? try Self.retention(request.retention) : nil
            let node = self.node
            let primary = node.deployment.primary.name
            guard primary == node.region else {
                // Checked here first: bad input is refused without a round trip.
                _ = try node.newNamespace(name: request.name, id: request.id, retention: retention, homeRegion: request.homeRegion,
                                          regions: request.regions)
                var forwarded = request
                if forwarded.homeRegion.isEmpty { forwarded.homeRegion = node.region }
                let answer = try await node.links.call(primary, VisibilityMethods.createNamespace, forwarded)
                await node.adopt(answer.namespace, from: primary)
                return answer
            }
            let entry = try await node.createNamespace(name: request.name, id: request.id, retention: retention,
                                                       homeRegion: request.homeRegion, regions: request.regions)
            return .with { $0.namespace = WireConversions.wire(entry) }
        }
        route(VisibilityMethods.describeNamespace, &router, kind: "admin") { request in
            let entry = try await self.node.namespace(named: request.name)
            return .with { $0.namespace = WireConversions.wire(entry) }
        }
        route(VisibilityMethods.updateNamespace, &router, kind: "admin") { request in
            var entry = try await self.node.namespace(named: request.name)
            let retention = request.hasRetention ? try Self.retention(request.retention) : nil
            if request.hasRegions { try self.node.checkRegionsKnown(request.regions.names) }
            if let home = self.node.homeElsewhere(entry) {
                let answer = try await self.node.links.call(home, VisibilityMethods.updateNamespace, request)
                await self.node.adopt(answer.namespace, from: home)
                return answer
            }
            if let retention { entry = try await self.node.setRetention(namespace: request.name, retention: retention) }
            if request.hasRegions { entry = try await self.node.setRegions(namespace: request.name, regions: request.regions.names) }
            if request.hasImporting {
                entry = try await self.node.setImporting(namespace: request.name, importing: request.importing,
                                                         importedOrderMax: request.importedOrderMax)
            }
            return .with { $0.namespace = WireConversions.wire(entry) }
        }
        route(VisibilityMethods.listNamespaces, &router, kind: "admin") { request in
            guard request.pageSize >= 0 else { throw WireConversions.invalid("page_size must not be negative: \(request.pageSize)") }
            let pageSize = request.pageSize == 0 ? 100 : min(Int(request.pageSize), 1_000)
            // The token is the last name returned: namespaces are listed by name.
            let after = String(decoding: request.nextPageToken, as: UTF8.self)
            let remaining = self.node.catalog.namespaces.filter { request.nextPageToken.isEmpty || $0.name > after }
            let page = remaining.prefix(pageSize)
            return .with {
                $0.namespaces = page.map(WireConversions.wire)
                if remaining.count > pageSize, let last = page.last { $0.nextPageToken = Data(last.name.utf8) }
            }
        }
        route(VisibilityMethods.addSearchAttributes, &router, kind: "admin") { request in
            guard !request.searchAttributes.isEmpty else { throw WireConversions.invalid("AddSearchAttributes names no attributes") }
            var types: [String: Int] = [:]
            for (name, type) in request.searchAttributes {
                guard type != .unspecified else {
                    throw WireConversions.invalid("search attribute \(name): a type is required (INDEXED_VALUE_TYPE_KEYWORD, …)")
                }
                types[name] = type.rawValue
            }
            if let answer = try await self.forwardToHome(request.namespace, VisibilityMethods.addSearchAttributes, request) { return answer }
            let entry = try await self.node.addSearchAttributes(namespace: request.namespace, rawTypes: types)
            return Self.attributes(of: entry)
        }
        route(VisibilityMethods.removeSearchAttributes, &router, kind: "admin") { request in
            guard !request.names.isEmpty else { throw WireConversions.invalid("RemoveSearchAttributes names no attributes") }
            if let answer = try await self.forwardToHome(request.namespace, VisibilityMethods.removeSearchAttributes, request) { return answer }
            return Self.attributes(of: try await self.node.removeSearchAttributes(namespace: request.namespace, request.names))
        }
        route(VisibilityMethods.listSearchAttributes, &router, kind: "admin") { request in
            Self.attributes(of: try await self.node.namespace(named: request.namespace))
        }
    }

    /// The home's answer to `request`, when the namespace's home is another region (nil: make the change here).
    private func forwardToHome<Request, Response>(_ namespace: String, _ method: RPCMethod<Request, Response>,
                                                  _ request: Request) async throws -> Response? {
        guard let home = node.homeElsewhere(try await node.namespace(named: namespace)) else { return nil }
        let answer = try await node.links.call(home, method, request)
        await node.adopt(namespace: namespace, from: home)
        return answer
    }

    static func retention(_ wire: Google_Protobuf_Duration) throws -> Duration {
        guard wire.seconds >= 1, wire.nanos == 0 else {
            throw WireConversions.invalid("retention must be a positive whole number of seconds; got \(wire.seconds) s \(wire.nanos) ns")
        }
        return .seconds(wire.seconds)
    }

    static func attributes(of entry: NamespaceEntry) -> Periscope_V1_SearchAttributesResponse {
        .with {
            $0.system = AttributeCatalog.system.merging(AttributeCatalog.predefined) { first, _ in first }.mapValues(WireConversions.wire)
            $0.custom = entry.customAttributes.mapValues { Periscope_V1_IndexedValueType(rawValue: $0) ?? .unspecified }
        }
    }
}
