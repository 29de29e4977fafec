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

    // MARK: Time

    package static func timestamp(_ wire: Google_Protobuf_Timestamp, field: String) throws(RPCStatus) -> Timestamp {
        guard (0..<1_000_000_000).contains(wire.nanos) else { throw invalid("\(field): nanos \(wire.nanos) is outside 0...999999999") }
        let (scaled, overflow) = wire.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, overflow2) = scaled.addingReportingOverflow(Int64(wire.nanos))
        guard !overflow, !overflow2 else { throw invalid("\(field): \(wire.seconds) s is outside the years 1678 ... 2262 Periscope stores") }
        return Timestamp(nanosecondsSinceEpoch: total)
    }

    package static func wire(_ time: Timestamp) -> Google_Protobuf_Timestamp {
        let (seconds, nanos) = time.nanosecondsSinceEpoch.quotientAndRemainder(dividingBy: 1_000_000_000)
        return nanos < 0 ? .with { $0.seconds = seconds - 1; $0.nanos = Int32(nanos + 1_000_000_000) }
            : .with { $0.seconds = seconds; $0.nanos = Int32(nanos) }
    }

    static func nanoseconds(_ wire: Google_Protobuf_Duration, field: String) throws(RPCStatus) -> Int64 {
        let (scaled, overflow) = wire.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, overflow2) = scaled.addingReportingOverflow(Int64(wire.nanos))
        guard !overflow, !overflow2 else { throw invalid("\(field): \(wire.seconds) s is too long") }
        return total
    }

    package static func wireDuration(nanoseconds: Int64) -> Google_Protobuf_Duration {
        let (seconds, nanos) = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
        return .with { $0.seconds = seconds; $0.nanos = Int32(nanos) }
    }

    // MARK: Enums

    static func status(_ wire: Periscope_V1_ExecutionStatus) throws(RPCStatus) -> ExecutionStatus {
        guard wire != .unspecified else { throw invalid("execution.status is required (EXECUTION_STATUS_RUNNING, …)") }
        guard let status = ExecutionStatus(rawValue: Int32(wire.rawValue)) else {
            throw invalid("execution.status \(wire.rawValue) is not an ExecutionStatus")
        }
        return status
    }

    static func wire(_ status: ExecutionStatus) -> Periscope_V1_ExecutionStatus {
        Periscope_V1_ExecutionStatus(rawValue: Int(status.rawValue)) ?? .unspecified
    }

    static func wire(_ type: SearchAttributeType) -> Periscope_V1_IndexedValueType {
        Periscope_V1_IndexedValueType(rawValue: type.rawValue) ?? .unspecified
    }

    // MARK: Search attributes

    static func value(_ wire: Periscope_V1_SearchAttributeValue, name: String) throws(RPCStatus) -> SearchAttributeValue {
        switch wire.value {
        case .text(let text)?: return .text(text)
        case .keyword(let keyword)?: return .keyword(keyword)
        case .int(let number)?: return .int(number)
        case .double(let number)?:
            guard number.isFinite else { throw invalid("search attribute \(name): \(number) is not a finite Double") }
            return .double(number)
        case .bool(let flag)?: return .bool(flag)
        case .datetime(let time)?: return .datetime(try timestamp(time, field: "search attribute \(name)"))
        case .keywordList(let list)?: return .keywordList(list.values)
        case nil: throw invalid("search attribute \(name) has no value (set one of text, keyword, int, double, bool, datetime, keyword_list)")
        }
    }

    static func wire(_ value: SearchAttributeValue) -> Periscope_V1_SearchAttributeValue {
        switch value {
        case .text(let text): .with { $0.text = text }
        case .keyword(let keyword): .with { $0.keyword = keyword }
        case .int(let number): .with { $0.int = number }
        case .double(let number): .with { $0.double = number }
        case .bool(let flag): .with { $0.bool = flag }
        case .datetime(let time): .with { $0.datetime = wire(time) }
        case .keywordList(let list): .with { $0.keywordList = .with { $0.values = list } }
        }
    }

    /// A GROUP BY value: statuses come back as their names, as Temporal returns them.
    static func wire(_ value: QueryValue) -> Periscope_V1_SearchAttributeValue {
        switch value {
        case .string(let string): .with { $0.keyword = string }
        case .int(let number): .with { $0.int = number }
        case .double(let number): .with { $0.double = number }
        case .bool(let flag): .with { $0.bool = flag }
        case .datetime(let time): .with { $0.datetime = wire(time) }
        case .status(let status): .with { $0.keyword = status.name }
        }
    }

    // MARK: Executions

    static func record(_ wire: Periscope_V1_Execution, namespaceId: String) throws(RPCStatus) -> VisibilityRecord {
        guard wire.hasStartTime else { throw invalid("execution.start_time is required") }
        let start = try timestamp(wire.startTime, field: "execution.start_time")
        var execution = start
        if wire.hasExecutionTime {
            let given = try timestamp(wire.executionTime, field: "execution.execution_time")
            if given > .epoch { execution = given }  // Temporal: not after the epoch means unset
        }
        var attributes: [String: SearchAttributeValue] = [:]
        for (name, value) in wire.searchAttributes { attributes[name] = try self.value(value, name: name) }
        return VisibilityRecord(
            key: ExecutionKey(namespaceId: namespaceId, workflowId: wire.workflowID, runId: wire.runID),
            version: wire.version, workflowType: wire.workflowType, taskQueue: wire.taskQueue, status: try status(wire.status),
            startTime: start, executionTime: execution,
            closeTime: wire.hasCloseTime ? try timestamp(wire.closeTime, field: "execution.close_time") : nil,
            executionDuration: wire.hasExecutionDuration ? try nanoseconds(wire.executionDuration, field: "execution.execution_duration") : nil,
            historyLength: wire.hasHistoryLength ? wire.historyLength : nil,
            historySizeBytes: wire.hasHistorySizeBytes ? wire.historySizeBytes : nil,
            stateTransitionCount: wire.hasStateTransitionCount ? wire.stateTransitionCount : nil,
            parentWorkflowId: wire.hasParentWorkflowID ? wire.parentWorkflowID : nil,
            parentRunId: wire.hasParentRunID ? wire.parentRunID : nil,
            rootWorkflowId: wire.rootWorkflowID, rootRunId: wire.rootRunID, memo: Array(wire.memo), searchAttributes: attributes)
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

    static func wire(_ record: VisibilityRecord) -> Periscope_V1_Execution {
        .with { wire in
            wire.workflowID = record.key.workflowId
            wire.runID = record.key.runId
            wire.version = record.version
            wire.workflowType = record.workflowType
            wire.taskQueue = record.taskQueue
            wire.status = self.wire(record.status)
            wire.startTime = self.wire(record.startTime)
            wire.executionTime = self.wire(record.executionTime)
            if let close = record.closeTime { wire.closeTime = self.wire(close) }
            if let duration = record.executionDuration { wire.executionDuration = wireDuration(nanoseconds: duration) }
            if let value = record.historyLength { wire.historyLength = value }
            if let value = record.historySizeBytes { wire.historySizeBytes = value }
            if let value = record.stateTransitionCount { wire.stateTransitionCount = value }
            if let value = record.parentWorkflowId { wire.parentWorkflowID = value }
            if let value = record.parentRunId { wire.parentRunID = value }
            wire.rootWorkflowID = record.rootWorkflowId
            wire.rootRunID = record.rootRunId
            wire.memo = Data(record.memo)
            wire.searchAttributes = record.searchAttributes.mapValues { self.wire($0) }
            wire.failoverVersion = record.failoverVersion
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
        return entry
    }
}
