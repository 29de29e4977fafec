import PeriscopeModel

/// An execution's place in a namespace's default listing order: its partition and the
/// order suffix every index key ends with (§9.2). Byte order is list order, whichever
/// index a position was read from, so streams from different indexes can be merged and
/// intersected by comparing positions.
struct Position: Hashable, Comparable, Sendable {
    let bytes: [UInt8]

    static func < (left: Position, right: Position) -> Bool { bytesPrecede(left.bytes, right.bytes) }

    /// The position of an index key: the key without its leading elements (namespace and,
    /// for postings, field, type and value), keeping the partition.
    /// `elementsBeforePartition` is 1 (the namespace); `elementsAfterPartition` is 0 for the
    /// time index and 3 for postings.
    init(indexKey key: [UInt8], elementsAfterPartition: Int) throws {
        var decoder = KeyDecoder(key)
        _ = try decoder.next()
        let partitionStart = decoder.offset
        _ = try decoder.next()
        let partitionEnd = decoder.offset
        for _ in 0..<elementsAfterPartition { _ = try decoder.next() }
        bytes = Array(key[partitionStart..<partitionEnd]) + key[decoder.offset...]
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// The partition's encoded bytes (its first element).
    var partitionBytes: ArraySlice<UInt8> { bytes.prefix(Self.partitionLength) }

    /// Encoded partitions are a type byte and 8 bytes.
    static let partitionLength = 9

    /// The execution and its partition, decoded.
    func execution(namespaceId: String) throws -> (ExecutionKey, Partition) {
        let elements = try KeyDecoder.decode(bytes).map(\.0)
        guard let partition = elements.first.flatMap(Partition.init), let ids = ShardKeys.executionIds(endingOrder: elements)
        else { throw ShardError("malformed index position \(Shard.describeKey(bytes))") }
        return (ExecutionKey(namespaceId: namespaceId, workflowId: ids.workflowId, runId: ids.runId), partition)
    }
}
