import PeriscopeModel

/// The stored (and proposed) form of a `VisibilityRecord`: a format byte, then the fields in
/// a fixed order, optional ones behind a presence bitmap, search attributes sorted by name
/// so that equal records encode to equal bytes (replicas compare digests of them).
///
/// A compact format of our own rather than protobuf: records are decoded by the million in
/// filtered scans, and this one decodes without an intermediate message.
///
/// Format 2 adds the failover version after the version; a record whose failover version is
/// 0 (every record of a namespace that never failed over) is written in format 1, so the
/// bytes, and replica digests, of data written before failover versions existed stay the same.
enum RecordCodec {
    static let formatV1: UInt8 = 1
    static let formatV2: UInt8 = 2

    static func encode(_ record: VisibilityRecord) -> [UInt8] {
        var writer = BinaryWriter(capacity: 160 + record.memo.count)
        write(record, to: &writer)
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(DecodingError) -> VisibilityRecord {
        var reader = BinaryReader(bytes, what: "record")
        let record = try read(from: &reader)
        try reader.expectEnd()
        return record
    }

    static func write(_ record: VisibilityRecord, to writer: inout BinaryWriter) {
        writer.byte(record.failoverVersion == 0 ? formatV1 : formatV2)
        writer.string(record.key.namespaceId)
        writer.string(record.key.workflowId)
        writer.string(record.key.runId)
        writer.signed(record.version)
        if record.failoverVersion != 0 { writer.signed(record.failoverVersion) }
        writer.string(record.workflowType)
        writer.string(record.taskQueue)
        writer.signed(Int64(record.status.rawValue))
        writer.signed(record.startTime.nanosecondsSinceEpoch)
        writer.signed(record.executionTime.nanosecondsSinceEpoch)
        var presence: UInt64 = 0
        let optionals: [Int64?] = [record.closeTime?.nanosecondsSinceEpoch, record.executionDuration, record.historyLength,
                                   record.historySizeBytes, record.stateTransitionCount]
        for (bit, value) in optionals.enumerated() where value != nil { presence |= 1 << UInt64(bit) }
        if record.parentWorkflowId != nil { presence |= 1 << 5 }
        if record.parentRunId != nil { presence |= 1 << 6 }
        writer.varint(presence)
        for case let value? in optionals { writer.signed(value) }
        if let parent = record.parentWorkflowId { writer.string(parent) }
        if let parent = record.parentRunId { writer.string(parent) }
        writer.string(record.rootWorkflowId)
        writer.string(record.rootRunId)
        writer.data(record.memo)
        let attributes = record.searchAttributes.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        writer.varint(UInt64(attributes.count))
        for (name, value) in attributes {
            writer.string(name)
            writeValue(value, to: &writer)
        }
    }

    static func read(from reader: inout BinaryReader) throws(DecodingError) -> VisibilityRecord {
        let format = try reader.byte()
        guard format == formatV1 || format == formatV2 else { throw reader.failure("unknown record format \(format)") }
        let key = ExecutionKey(namespaceId: try reader.string(), workflowId: try reader.string(), runId: try reader.string())
        let version = try reader.signed()
        let failoverVersion = format == formatV2 ? try reader.signed() : 0
        let workflowType = try reader.string()
        let taskQueue = try reader.string()
        let statusNumber = try reader.signed()
        guard let statusRaw = Int32(exactly: statusNumber), let status = ExecutionStatus(rawValue: statusRaw) else {
            throw reader.failure("unknown execution status \(statusNumber)")
        }
        let startTime = Timestamp(nanosecondsSinceEpoch: try reader.signed())
        let executionTime = Timestamp(nanosecondsSinceEpoch: try reader.signed())
        let presence = try reader.varint()
        guard presence < 1 << 7 else { throw reader.failure("unknown optional fields \(presence)") }
        var optionals: [Int64?] = []
        for bit in 0..<5 { optionals.append(try presence & (1 << UInt64(bit)) != 0 ? reader.signed() : nil) }
        let parentWorkflowId = try presence & (1 << 5) != 0 ? reader.string() : nil
        let parentRunId = try presence & (1 << 6) != 0 ? reader.string() : nil
        let rootWorkflowId = try reader.string()
        let rootRunId = try reader.string()
        let memo = try reader.data()
        let attributeCount = try reader.count(max: 1 << 16)
        var attributes: [String: SearchAttributeValue] = [:]
        attributes.reserveCapacity(attributeCount)
        for _ in 0..<attributeCount {
            let name = try reader.string()
            attributes[name] = try readValue(from: &reader)
        }
        var record = VisibilityRecord(
            key: key, version: version, workflowType: workflowType, taskQueue: taskQueue, status: status,
            startTime: startTime, executionTime: executionTime,
            closeTime: optionals[0].map(Timestamp.init(nanosecondsSinceEpoch:)), executionDuration: optionals[1],
            historyLength: optionals[2], historySizeBytes: optionals[3], stateTransitionCount: optionals[4],
            parentWorkflowId: parentWorkflowId, parentRunId: parentRunId, rootWorkflowId: rootWorkflowId,
            rootRunId: rootRunId, memo: memo, searchAttributes: attributes)
        record.failoverVersion = failoverVersion
        return record
    }

    private static func writeValue(_ value: SearchAttributeValue, to writer: inout BinaryWriter) {
        writer.byte(UInt8(value.type.rawValue))
        switch value {
        case .keyword(let string), .text(let string): writer.string(string)
        case .keywordList(let strings):
            writer.varint(UInt64(strings.count))
            for string in strings { writer.string(string) }
        case .int(let number): writer.signed(number)
        case .double(let number): writer.fixed(number.bitPattern)
        case .bool(let flag): writer.byte(flag ? 1 : 0)
        case .datetime(let time): writer.signed(time.nanosecondsSinceEpoch)
        }
    }

    private static func readValue(from reader: inout BinaryReader) throws(DecodingError) -> SearchAttributeValue {
        let code = try reader.byte()
        guard let type = SearchAttributeType(rawValue: Int(code)) else { throw reader.failure("unknown attribute type \(code)") }
        switch type {
        case .keyword: return .keyword(try reader.string())
        case .text: return .text(try reader.string())
        case .keywordList:
            let count = try reader.count(max: 1 << 16)
            var strings: [String] = []
            for _ in 0..<count { strings.append(try reader.string()) }
            return .keywordList(strings)
        case .int: return .int(try reader.signed())
        case .double: return .double(Double(bitPattern: try reader.fixed()))
        case .bool:
            let flag = try reader.byte()
            guard flag <= 1 else { throw reader.failure("bool byte \(flag)") }
            return .bool(flag == 1)
        case .datetime: return .datetime(Timestamp(nanosecondsSinceEpoch: try reader.signed()))
        }
    }
}
