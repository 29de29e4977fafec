import Foundation
import PeriscopeAPI
import PeriscopeModel
import PeriscopeQuery
import PeriscopeRPC
import SwiftProtobuf

/// The API's messages to the model and back. What the wire allows but the model cannot
/// hold (a status number nobody defined, a time past year 2262, an attribute without a
/// value) is refused with INVALID_ARGUMENT naming the field.
/// `package`: the CLI converts times with it too.
package enum WireConversions {
    static func invalid(_ message: String) -> RPCStatus { RPCStatus(.invalidArgument, message) }

    // MARK: Records (the conversions live in PeriscopeAPI's `RecordWire`, which clients share)

    package static func timestamp(_ wire: Google_Protobuf_Timestamp, field: String) throws(RPCStatus) -> Timestamp {
        try RecordWire.timestamp(wire, field: field)
    }

    package static func wire(_ time: Timestamp) -> Google_Protobuf_Timestamp { RecordWire.wire(time) }

    package static func wireDuration(nanoseconds: Int64) -> Google_Protobuf_Duration { RecordWire.wireDuration(nanoseconds: nanoseconds) }

    static func wire(_ type: SearchAttributeType) -> Periscope_V1_IndexedValueType { RecordWire.wire(type) }

    static func record(_ wire: Periscope_V1_Execution, namespaceId: String) throws(RPCStatus) -> VisibilityRecord {
        try RecordWire.record(wire, namespaceId: namespaceId)
    }

    static func wire(_ record: VisibilityRecord) -> Periscope_V1_Execution { RecordWire.wire(record) }

    /// A GROUP BY value: statuses come back as their names, as Temporal returns them.
    static func wire(_ value: QueryValue) -> Periscope_V1_SearchAttributeValue {
        switch value {
        case .string(let string): .with { $0.keyword = string }
        case .int(let number): .with { $0.int = number }
        case .double(let number): .with { $0.double = number }
        case .bool(let flag): .with { $0.bool = flag }
        case .datetime(let time): .with { $0.datetime = RecordWire.wire(time) }
        case .status(let status): .with { $0.keyword = status.name }
        }
    }

    /// A count's groups as the API returns them.
    static func groups(_ result: CountResult) -> [Periscope_V1_AggregationGroup] {
        result.groups.map { group in
            .with {
                $0.count = Int64(group.count)
                if let value = group.value { $0.groupValues = [wire(value)] }
            }
        }
    }

    static func wire(_ entry: NamespaceEntry) -> Periscope_V1_Namespace {
        .with {
            $0.name = entry.name
            $0.id = entry.id
            $0.retention = .with { $0.seconds = entry.retentionSeconds }
            $0.customSearchAttributes = entry.customAttributes.mapValues { Periscope_V1_IndexedValueType(rawValue: $0) ?? .unspecified }
            $0.homeRegion = entry.homeRegion
            $0.regions = entry.regions
            $0.failoverVersion = entry.failoverVersion
            $0.metadataVersion = entry.metadataVersion
            $0.handingOverTo = entry.handingOverTo ?? ""
            $0.initialHomeRegion = entry.initialHome
            $0.regionsAddedAt = entry.regionsAddedAt
            $0.importing = entry.importing
            $0.importCeiling = entry.importCeiling ?? 0
        }
    }

    /// A namespace another region answered with, as this region's catalog stores it.
    static func entry(_ wire: Periscope_V1_Namespace) -> NamespaceEntry {
        var entry = NamespaceEntry(name: wire.name, id: wire.id, retentionSeconds: wire.retention.seconds,
                                   customAttributes: wire.customSearchAttributes.mapValues(\.rawValue), homeRegion: wire.homeRegion,
                                   regions: wire.regions)
        entry.failoverVersion = wire.failoverVersion
        entry.metadataVersion = wire.metadataVersion
        entry.initialHome = wire.initialHomeRegion.isEmpty ? wire.homeRegion : wire.initialHomeRegion
        entry.handingOverTo = wire.handingOverTo.isEmpty ? nil : wire.handingOverTo
        entry.regionsAddedAt = wire.regionsAddedAt
        entry.importing = wire.importing
        entry.importCeiling = wire.importCeiling == 0 ? nil : wire.importCeiling
        return entry
    }
}
