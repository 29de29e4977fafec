import PeriscopeModel
import PeriscopeStorage

/// What `verify` found: the indexes recomputed from the records at the watermark, compared
/// with what the index column families hold.
public struct VerifyReport: Sendable, Equatable, CustomStringConvertible {
    public struct Difference: Sendable, Equatable, CustomStringConvertible {
        public enum Kind: String, Sendable { case missing, unexpected }
        public var index: ShardIndex
        public var kind: Kind
        /// The index key, decoded for reading.
        public var key: String

        public var description: String { "\(index.rawValue): \(kind.rawValue) \(key)" }
    }

    public var watermark: UInt64
    public var executionsChecked: Int
    public var entriesExpected: [ShardIndex: Int]
    public var entriesFound: [ShardIndex: Int]
    /// The first differences found (at most `differencesMax` of them).
    public var differences: [Difference]

    public var isConsistent: Bool { differences.isEmpty && entriesExpected == entriesFound }

    public var description: String {
        let counts = ShardIndex.allCases.map { "\($0.rawValue) \(entriesFound[$0] ?? 0)/\(entriesExpected[$0] ?? 0)" }
        return (isConsistent ? "consistent" : "INCONSISTENT") + " at watermark \(watermark): \(executionsChecked) executions, "
            + "entries found/expected: " + counts.joined(separator: ", ")
            + differences.map { "\n  \($0)" }.joined()
    }
}

extension Shard {
    /// Recomputes every index from the records, as of the indexes' watermark, and compares
    /// with the index column families, all at one snapshot. Does not need the indexer to be
    /// caught up, and runs beside it and beside `apply`. **Reads everything**: an
    /// operator's tool, not a request path.
    ///
    /// Every expected key is looked up, and every index is counted: with no key missing, equal
    /// counts mean no key is unexpected either. Only when counts differ is each index key
    /// checked against its execution, to name the unexpected ones.
    public func verify(differencesMax: Int = 20) throws -> VerifyReport {
        let snapshot = try database.makeSnapshot()
        let read = ReadOptions(snapshot: snapshot)
        let marks = try ShardIndex.allCases.map { try metaIndex(ShardKeys.watermark($0), options: read) }
        guard Set(marks).count == 1 else { throw ShardError("index watermarks differ: \(marks)") }
        let watermark = marks[0]
        let scheme = configuration.partitionScheme
        let zero = Dictionary(uniqueKeysWithValues: ShardIndex.allCases.map { ($0, 0) })
        var report = VerifyReport(watermark: watermark, executionsChecked: 0, entriesExpected: zero, entriesFound: zero,
                                  differences: [])
        func note(_ index: ShardIndex, _ kind: VerifyReport.Difference.Kind, _ key: [UInt8]) {
            guard report.differences.count < differencesMax else { return }
            report.differences.append(.init(index: index, kind: kind, key: Self.describeKey(key)))
        }

        try database.scan(in: family(.locator), options: read) { entries in
            for entry in entries {
                let key = try Self.executionKey(fromLocator: entry.key)
                report.executionsChecked += 1
                guard let record = try state(of: key, asOf: watermark, options: read) else { continue }
                let expected = IndexEntries(record, scheme: scheme)
                for index in ShardIndex.allCases {
                    let keys = expected[index]
                    report.entriesExpected[index, default: 0] += keys.count
                    let found = try database.multiGet(keys, in: family(index.columnFamily), options: read)
                    for (key, value) in zip(keys, found) where value == nil { note(index, .missing, key) }
                }
            }
        }
        // Keys in partitions retention dropped after the watermark are the indexer's to
        // delete: they are neither expected nor counted.
        let horizons = try horizons(options: read)
        for index in ShardIndex.allCases {
            report.entriesFound[index] = try database.scan(in: family(index.columnFamily), options: read) { entries in
                entries.reduce(0) { count, entry in Self.isExpired(indexKey: entry.key, horizons: horizons) ? count : count + 1 }
            }
        }
        if report.entriesFound != report.entriesExpected {
            try findUnexpected(watermark: watermark, horizons: horizons, options: read, note: note)
        }
        return report
    }

    /// Checks each index key against the entries its execution should have.
    private func findUnexpected(watermark: UInt64, horizons: [String: Int64], options: ReadOptions,
                                note: (ShardIndex, VerifyReport.Difference.Kind, [UInt8]) -> Void) throws {
        let scheme = configuration.partitionScheme
        for index in ShardIndex.allCases {
            try database.scan(in: family(index.columnFamily), options: options) { entries in
                for entry in entries where !Self.isExpired(indexKey: entry.key, horizons: horizons) {
                    guard let key = try? Self.executionKey(fromIndexKey: entry.key) else {
                        note(index, .unexpected, entry.key)
                        continue
                    }
                    let expected = try state(of: key, asOf: watermark, options: options).map { IndexEntries($0, scheme: scheme) }
                    if expected?[index].contains(entry.key) != true { note(index, .unexpected, entry.key) }
                }
            }
        }
    }

    /// Every namespace's retention horizon at `options`' snapshot.
    func horizons(options: ReadOptions) throws -> [String: Int64] {
        let prefix = ShardKeys.retentionHorizonPrefix
        var horizons: [String: Int64] = [:]
        for entry in try database.scan(in: family(.meta), range: .prefix(prefix), options: options, { Array($0) }) {
            guard case (.string(let namespaceId), _)? = try? KeyDecoder.decode(Array(entry.key.dropFirst(prefix.count))).first else {
                throw ShardError("malformed retention key \(Self.describeKey(entry.key)) in \(path)")
            }
            horizons[namespaceId] = Int64(bitPattern: try readFixed(entry.value, what: "retention horizon"))
        }
        return horizons
    }

    /// Whether an index key (namespace, partition, …) lies in a partition retention dropped.
    static func isExpired(indexKey: [UInt8], horizons: [String: Int64]) -> Bool {
        guard !horizons.isEmpty, let elements = try? KeyDecoder.decode(indexKey), elements.count >= 2,
              case .string(let namespaceId) = elements[0].0, let horizon = horizons[namespaceId],
              case .closed(let bucket)? = Partition(elements[1].0) else { return false }
        return bucket <= horizon
    }

    static func executionKey(fromLocator bytes: [UInt8]) throws -> ExecutionKey {
        let elements = try KeyDecoder.decode(bytes).map(\.0)
        guard elements.count == 3, case .string(let namespaceId) = elements[0], case .string(let workflowId) = elements[1],
              case .string(let runId) = elements[2] else {
            throw ShardError("malformed locator key \(bytes)")
        }
        return ExecutionKey(namespaceId: namespaceId, workflowId: workflowId, runId: runId)
    }

    static func describeKey(_ bytes: [UInt8]) -> String {
        guard let elements = try? KeyDecoder.decode(bytes) else { return "0x" + bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
        return "(" + elements.map { $0.0.description }.joined(separator: ", ") + ")"
    }
}
