import PeriscopeModel
import PeriscopeStorage

/// Key formats. Every key is a tuple encoded by `KeyEncoder`, so byte order is tuple order
/// and every index range below is one contiguous byte range.
enum ShardKeys {
    // MARK: Executions

    static func locator(_ key: ExecutionKey) -> [UInt8] {
        KeyEncoder.encode([.string(key.namespaceId), .string(key.workflowId), .string(key.runId)])
    }

    static func record(_ key: ExecutionKey, in partition: Partition) -> [UInt8] {
        var encoder = KeyEncoder()
        encoder.append(.string(key.namespaceId))
        partition.append(to: &encoder)
        encoder.append(.string(key.workflowId))
        encoder.append(.string(key.runId))
        return encoder.bytes
    }

    static func namespace(_ namespaceId: String) -> [UInt8] { KeyEncoder.encode([.string(namespaceId)]) }

    static func partition(_ namespaceId: String, _ partition: Partition) -> [UInt8] {
        var encoder = KeyEncoder()
        encoder.append(.string(namespaceId))
        partition.append(to: &encoder)
        return encoder.bytes
    }

    /// Every closed partition of a namespace from `bucket` back to the oldest: one range in
    /// any column family keyed (namespace, partition, …).
    static func closedPartitions(_ namespaceId: String, throughBucket bucket: Int64) -> (from: [UInt8], to: [UInt8]) {
        (partition(namespaceId, .closed(bucket: bucket)), KeyRange.prefixSuccessor(namespace(namespaceId))!)
    }

    // MARK: Indexes

    /// The default listing order within a partition: `CloseTime` descending (closed
    /// partitions only), `StartTime` descending, then `RunId` and `WorkflowId` ascending.
    /// Appended to every index key, so every posting list is in Temporal's default order and
    /// any two can be merged or intersected by streaming.
    static func appendOrder(of record: VisibilityRecord, to encoder: inout KeyEncoder) {
        if let closeTime = record.closeTime { encoder.append(.timestamp(closeTime), .descending) }
        encoder.append(.timestamp(record.startTime), .descending)
        encoder.append(.string(record.key.runId))
        encoder.append(.string(record.key.workflowId))
    }

    /// The ids at the end of a decoded key that ends in the order suffix; nil if it does not.
    static func executionIds(endingOrder elements: [TupleElement]) -> (runId: String, workflowId: String)? {
        guard elements.count >= 4, case .string(let runId) = elements[elements.count - 2],
              case .string(let workflowId) = elements[elements.count - 1] else { return nil }
        return (runId, workflowId)
    }

    static func time(_ record: VisibilityRecord, _ partition: Partition) -> [UInt8] {
        RecordKeyParts(record, partition).time
    }

    /// A term or value posting: `field` and `type` name the attribute (a re-registered
    /// attribute with another type never mixes with old values).
    static func posting(_ record: VisibilityRecord, _ partition: Partition, field: String, type: SearchAttributeType,
                        value: TupleElement) -> [UInt8] {
        RecordKeyParts(record, partition).posting(field: field, type: type, value: value)
    }

    // MARK: Change feed and metadata

    static func change(index: UInt64) -> [UInt8] { bigEndian(index) }

    static func changeIndex(_ key: [UInt8]) -> UInt64? { try? readFixed(key, what: "change key") }

    static let appliedIndex = Array("applied-index".utf8)
    static let partitionWidth = Array("partition-width".utf8)
    static func watermark(_ index: ShardIndex) -> [UInt8] { Array("watermark/\(index.rawValue)".utf8) }
    static let retentionHorizonPrefix = Array("expired-through/".utf8)
    static func retentionHorizon(_ namespaceId: String) -> [UInt8] { retentionHorizonPrefix + namespace(namespaceId) }

    // MARK: Cross-region replication (meta and outbox)

    static func outbox(index: UInt64) -> [UInt8] { bigEndian(index) }
    /// Outbox entries through this index may be gone: a region whose cursor is behind it
    /// needs a backfill.
    static let outboxTrimmedThrough = Array("outbox-trimmed-through".utf8)
    static let replicationCursorPrefix = Array("replicated-from/".utf8)
    /// The source log index this shard has received another region's writes through.
    static func replicationCursor(origin: UInt32) -> [UInt8] { replicationCursorPrefix + bigEndian32(origin) }
    static let fencePrefix = Array("fence/".utf8)
    static func fence(_ namespaceId: String) -> [UInt8] { fencePrefix + namespace(namespaceId) }
    static let backfilledPrefix = Array("backfilled/".utf8)
    /// A namespace's backfill from region `origin` finished (the version it was done for).
    static func backfilled(origin: UInt32, _ namespaceId: String) -> [UInt8] {
        backfilledPrefix + bigEndian32(origin) + namespace(namespaceId)
    }

    private static func bigEndian32(_ value: UInt32) -> [UInt8] { Array(bigEndian(UInt64(value)).suffix(4)) }
}

/// The two parts every index key of one record shares, encoded once: the head (namespace,
/// partition) and the default-order suffix. Tuple encodings are self-delimiting, so
/// concatenating encoded parts is the encoding of the whole tuple. (A record has a few
/// dozen index keys; encoding the shared parts once per key was a tenth of the indexer.)
struct RecordKeyParts {
    let head: [UInt8]
    let order: [UInt8]

    init(_ record: VisibilityRecord, _ partition: Partition) {
        var head = KeyEncoder(capacity: 32)
        head.append(.string(record.key.namespaceId))
        partition.append(to: &head)
        self.head = head.bytes
        var order = KeyEncoder(capacity: 64)
        ShardKeys.appendOrder(of: record, to: &order)
        self.order = order.bytes
    }

    /// (namespace, partition, order…)
    var time: [UInt8] { head + order }

    /// (namespace, partition, field, type, value, order…)
    func posting(field: String, type: SearchAttributeType, value: TupleElement) -> [UInt8] {
        var middle = KeyEncoder(capacity: 48)
        middle.append(.string(field))
        middle.append(.int(Int64(type.rawValue)))
        middle.append(value)
        var key: [UInt8] = []
        key.reserveCapacity(head.count + middle.bytes.count + order.count)
        key += head
        key += middle.bytes
        key += order
        return key
    }
}
