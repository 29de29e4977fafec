import PeriscopeModel
import PeriscopeStorage

/// A stream of positions in increasing order (the default listing order), with seeking:
/// what the executor intersects, unites and subtracts.
protocol PositionStream: AnyObject {
    /// The next position, or nil at the end.
    func next() throws -> Position?
    /// The first position at or after `target` (skipping the ones before), or nil.
    func seek(atOrAfter target: Position) throws -> Position?
}

/// One index's entries with a fixed key middle (a term, or nothing for the time index),
/// partition by partition: for each partition `P`, the keys starting with
/// `namespace, P, middle`. Reads at the query's snapshot.
final class PrefixStream: PositionStream {
    private let cursor: Cursor
    private let partitions: [[UInt8]]
    /// `namespace, P, middle` for each partition, built once: every key read is checked
    /// against its partition's prefix.
    private let prefixes: [[UInt8]]
    private let elementsAfterPartition: Int
    private let budget: ScanBudget
    private var partitionIndex = 0
    private var started = false

    init(database: Database, family: ColumnFamily, options: ReadOptions, namespacePrefix: [UInt8], middle: [UInt8],
         elementsAfterPartition: Int, partitions: [[UInt8]], budget: ScanBudget) throws {
        cursor = try database.makeCursor(in: family, options: options)
        self.budget = budget
        self.partitions = partitions
        prefixes = partitions.map { namespacePrefix + $0 + middle }
        self.elementsAfterPartition = elementsAfterPartition
    }

    func next() throws -> Position? {
        if !started {
            started = true
            guard !partitions.isEmpty else { return nil }
            _ = try cursor.seek(to: prefixes[0])
        } else if partitionIndex < partitions.count {
            _ = try cursor.next()
        }
        return try settle()
    }

    func seek(atOrAfter target: Position) throws -> Position? {
        started = true
        let targetPartition = Array(target.partitionBytes)
        while partitionIndex < partitions.count, bytesPrecede(partitions[partitionIndex], targetPartition) {
            partitionIndex += 1
        }
        guard partitionIndex < partitions.count else { return nil }
        if partitions[partitionIndex] == targetPartition {
            _ = try cursor.seek(to: prefixes[partitionIndex] + target.bytes.dropFirst(Position.partitionLength))
        } else {
            _ = try cursor.seek(to: prefixes[partitionIndex])
        }
        return try settle()
    }

    /// Moves to the next partition while the cursor is past the current one's keys.
    private func settle() throws -> Position? {
        while partitionIndex < partitions.count {
            if cursor.isValid {
                let key = cursor.key
                if key.starts(with: prefixes[partitionIndex]) {
                    try budget.charge()
                    return try Position(indexKey: key, elementsAfterPartition: elementsAfterPartition)
                }
            }
            partitionIndex += 1
            guard partitionIndex < partitions.count else { return nil }
            _ = try cursor.seek(to: prefixes[partitionIndex])
        }
        return nil
    }
}

/// Index keys a request may read. Requests check `isSpent` between results and stop with
/// a continuation; `charge` throws only when one step (from one result to the next: an
/// intersection or difference that finds nothing) reads far more than the budget.
final class ScanBudget {
    let limit: Int
    let stepLimit: Int
    private(set) var keysRead = 0
    private var stepStart = 0

    init(limit: Int) {
        self.limit = limit
        let tenfold = limit.multipliedReportingOverflow(by: 10)
        stepLimit = tenfold.overflow ? .max : max(tenfold.partialValue, Self.stepAllowance)
    }

    /// Keys one step may read at least, however small the budget.
    static let stepAllowance = 100_000

    /// For planning: bounded by the planner's own limits, not by the request's budget.
    static func unlimited() -> ScanBudget { ScanBudget(limit: .max / 16) }

    var isSpent: Bool { keysRead >= limit }

    /// A result was found: the next step starts.
    func beginStep() { stepStart = keysRead }

    func charge(_ keys: Int = 1) throws {
        keysRead += keys
        if keysRead - stepStart > stepLimit {
            throw ShardQueryError(.tooExpensive, "the query read \(keysRead - stepStart) index keys without finding the next "
                + "match (budget \(limit)); narrow the filter")
        }
    }
}

/// Positions gathered in memory and sorted: ranges of values (read in value order, not
/// list order) and presence sets.
final class SortedStream: PositionStream {
    private let positions: [Position]
    private var index = -1

    init(_ positions: [Position]) { self.positions = positions.sorted() }

    var count: Int { positions.count }

    func next() throws -> Position? {
        index = min(index + 1, positions.count)
        return index < positions.count ? positions[index] : nil
    }

    func seek(atOrAfter target: Position) throws -> Position? {
        var low = max(index, 0), high = positions.count
        while low < high {
            let middle = (low + high) / 2
            if positions[middle] < target { low = middle + 1 } else { high = middle }
        }
        index = low
        return index < positions.count ? positions[index] : nil
    }
}

/// Positions in any of the streams (each once).
final class UnionStream: PositionStream {
    private let streams: [PositionStream]
    private var heads: [Position?]
    private var started = false

    init(_ streams: [PositionStream]) {
        self.streams = streams
        heads = Array(repeating: nil, count: streams.count)
    }

    func next() throws -> Position? {
        if !started {
            started = true
            heads = try streams.map { try $0.next() }
        } else if let current = heads.compactMap({ $0 }).min() {
            for (index, head) in heads.enumerated() where head == current { heads[index] = try streams[index].next() }
        }
        return heads.compactMap { $0 }.min()
    }

    func seek(atOrAfter target: Position) throws -> Position? {
        if !started {
            started = true
            heads = try streams.map { try $0.seek(atOrAfter: target) }
        } else {
            for (index, head) in heads.enumerated() where head.map({ $0 < target }) ?? false {
                heads[index] = try streams[index].seek(atOrAfter: target)
            }
        }
        return heads.compactMap { $0 }.min()
    }
}

/// Positions in every stream: leapfrog, each stream seeking to the largest head.
final class IntersectionStream: PositionStream {
    private let streams: [PositionStream]

    /// - Parameter streams: at least one; the most selective first drives.
    init(_ streams: [PositionStream]) {
        precondition(!streams.isEmpty)
        self.streams = streams
    }

    func next() throws -> Position? {
        guard let candidate = try streams[0].next() else { return nil }
        return try align(from: candidate)
    }

    func seek(atOrAfter target: Position) throws -> Position? {
        guard let candidate = try streams[0].seek(atOrAfter: target) else { return nil }
        return try align(from: candidate)
    }

    private func align(from first: Position) throws -> Position? {
        var candidate = first
        var agreeing = 1
        var index = 1 % streams.count
        while agreeing < streams.count {
            guard let found = try streams[index].seek(atOrAfter: candidate) else { return nil }
            if found == candidate {
                agreeing += 1
            } else {
                candidate = found
                agreeing = 1
            }
            index = (index + 1) % streams.count
        }
        return candidate
    }
}

/// Positions of `base` that are not in `excluded`.
final class DifferenceStream: PositionStream {
    private let base: PositionStream
    private let excluded: PositionStream

    init(_ base: PositionStream, minus excluded: PositionStream) {
        self.base = base
        self.excluded = excluded
    }

    func next() throws -> Position? { try skipExcluded(try base.next()) }

    func seek(atOrAfter target: Position) throws -> Position? { try skipExcluded(try base.seek(atOrAfter: target)) }

    private func skipExcluded(_ first: Position?) throws -> Position? {
        var candidate = first
        while let position = candidate {
            guard let blocker = try excluded.seek(atOrAfter: position), blocker == position else { return position }
            candidate = try base.next()
        }
        return nil
    }
}
