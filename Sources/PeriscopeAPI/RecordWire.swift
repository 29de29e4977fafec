import Foundation
import PeriscopeModel
import PeriscopeRPC
import SwiftProtobuf

/// Records and their parts between the API's messages and the model, both ways: the node
/// reads requests and answers with them, clients (the migration among them) build and read
/// them. What the wire allows but the model cannot hold (a status number nobody defined, a
/// time past year 2262, an attribute without a value) is refused with INVALID_ARGUMENT
/// naming the field.
public enum RecordWire {
    // MARK: Time

    public static func timestamp(_ wire: Google_Protobuf_Timestamp, field: String) throws(RPCStatus) -> Timestamp {
        guard (0..<1_000_000_000).contains(wire.nanos) else { throw RPCStatus(.invalidArgument, "\(field): nanos \(wire.nanos) is outside 0...999999999") }
        let (scaled, overflow) = wire.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, overflow2) = scaled.addingReportingOverflow(Int64(wire.nanos))
        guard !overflow, !overflow2 else { throw RPCStatus(.invalidArgument, "\(field): \(wire.seconds) s is outside the years 1678 ... 2262 Periscope stores") }
        return Timestamp(nanosecondsSinceEpoch: total)
    }

    public static func wire(_ time: Timestamp) -> Google_Protobuf_Timestamp {
        let (seconds, nanos) = time.nanosecondsSinceEpoch.quotientAndRemainder(dividingBy: 1_000_000_000)
        return nanos < 0 ? .with { $0.seconds = seconds - 1; $0.nanos = Int32(nanos + 1_000_000_000) }
            : .with { $0.seconds = seconds; $0.nanos = Int32(nanos) }
    }

    public static func nanoseconds(_ wire: Google_Protobuf_Duration, field: String) throws(RPCStatus) -> Int64 {
        let (scaled, overflow) = wire.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, overflow2) = scaled.addingReportingOverflow(Int64(wire.nanos))
        guard !overflow, !overflow2 else { throw RPCStatus(.invalidArgument, "\(field): \(wire.seconds) s is too long") }
        return total
    }

    public static func wireDuration(nanoseconds: Int64) -> Google_Protobuf_Duration {
        let (seconds, nanos) = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
        return .with { $0.seconds = seconds; $0.nanos = Int32(nanos) }
    }

    // MARK: Enums

    public static func status(_ wire: Periscope_V1_ExecutionStatus) throws(RPCStatus) -> ExecutionStatus {
        guard wire != .unspecified else { throw RPCStatus(.invalidArgument, "execution.status is required (EXECUTION_STATUS_RUNNING, …)") }
        guard let status = ExecutionStatus(rawValue: Int32(wire.rawValue)) else {
            throw RPCStatus(.invalidArgument, "execution.status \(wire.rawValue) is not an ExecutionStatus")
        }
        return status
    }

    public static func wire(_ status: ExecutionStatus) -> Periscope_V1_ExecutionStatus {
        Periscope_V1_ExecutionStatus(rawValue: Int(status.rawValue)) ?? .unspecified
    }

    public static func wire(_ type: SearchAttributeType) -> Periscope_V1_IndexedValueType {
        Periscope_V1_IndexedValueType(rawValue: type.rawValue) ?? .unspecified
    }

    // MARK: Search attributes

    public static func value(_ wire: Periscope_V1_SearchAttributeValue, name: String) throws(RPCStatus) -> SearchAttributeValue {
        switch wire.value {
        case .text(let text)?: return .text(text)
        case .keyword(let keyword)?: return .keyword(keyword)
        case .int(let number)?: return .int(number)
        case .double(let number)?:
            guard number.isFinite else { throw RPCStatus(.invalidArgument, "search attribute \(name): \(number) is not a finite Double") }
            return .double(number)
        case .bool(let flag)?: return .bool(flag)
        case .datetime(let time)?: return .datetime(try timestamp(time, field: "search attribute \(name)"))
        case .keywordList(let list)?: return .keywordList(list.values)
        case nil: throw RPCStatus(.invalidArgument, "search attribute \(name) has no value (set one of text, keyword, int, double, bool, datetime, keyword_list)")
        }
    }

    public static func wire(_ value: SearchAttributeValue) -> Periscope_V1_SearchAttributeValue {
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

    // MARK: Executions

    public static func record(_ wire: Periscope_V1_Execution, namespaceId: String) throws(RPCStatus) -> VisibilityRecord {
        guard wire.hasStartTime else { throw RPCStatus(.invalidArgument, "execution.start_time is required") }
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

    public static func wire(_ record: VisibilityRecord) -> Periscope_V1_Execution {
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
}
