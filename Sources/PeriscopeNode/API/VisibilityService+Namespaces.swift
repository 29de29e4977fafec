import Foundation
import PeriscopeAPI
import PeriscopeModel
import PeriscopeRPC
import SwiftProtobuf

/// The namespace and search-attribute methods of the visibility service: changes go
/// through the catalog's Raft group, reads come from its in-memory copy.
extension VisibilityService {
    func registerNamespaceAdministration(in router: inout RPCRouter) {
        route(VisibilityMethods.createNamespace, &router, kind: "admin") { request in
            let retention = request.hasRetention ? try Self.retention(request.retention) : nil
            let entry = try await self.node.createNamespace(name: request.name, id: request.id, retention: retention,
                                                            homeRegion: request.homeRegion)
            return .with { $0.namespace = WireConversions.wire(entry) }
        }
        route(VisibilityMethods.describeNamespace, &router, kind: "admin") { request in
            let entry = try await self.node.namespace(named: request.name)
            return .with { $0.namespace = WireConversions.wire(entry) }
        }
        route(VisibilityMethods.updateNamespace, &router, kind: "admin") { request in
            var entry = try await self.node.namespace(named: request.name)
            if request.hasRetention {
                entry = try await self.node.setRetention(namespace: request.name, retention: try Self.retention(request.retention))
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
            let entry = try await self.node.addSearchAttributes(namespace: request.namespace, rawTypes: types)
            return Self.attributes(of: entry)
        }
        route(VisibilityMethods.removeSearchAttributes, &router, kind: "admin") { request in
            guard !request.names.isEmpty else { throw WireConversions.invalid("RemoveSearchAttributes names no attributes") }
            return Self.attributes(of: try await self.node.removeSearchAttributes(namespace: request.namespace, request.names))
        }
        route(VisibilityMethods.listSearchAttributes, &router, kind: "admin") { request in
            Self.attributes(of: try await self.node.namespace(named: request.namespace))
        }
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
