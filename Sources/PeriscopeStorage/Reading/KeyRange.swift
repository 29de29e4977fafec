/// A half-open range of keys, `[lowerBound, upperBound)`; a missing bound is unbounded.
public struct KeyRange: Sendable, Hashable {
    public var lowerBound: Bytes?
    public var upperBound: Bytes?

    public init(from lowerBound: Bytes? = nil, to upperBound: Bytes? = nil) {
        self.lowerBound = lowerBound
        self.upperBound = upperBound
    }

    public static let all = KeyRange()

    /// Every key that starts with `prefix`.
    public static func prefix(_ prefix: Bytes) -> KeyRange {
        KeyRange(from: prefix, to: prefixSuccessor(prefix))
    }

    public func contains(_ key: Bytes) -> Bool {
        if let lowerBound, key.lexicographicallyPrecedes(lowerBound) { return false }
        if let upperBound, !key.lexicographicallyPrecedes(upperBound) { return false }
        return true
    }

    /// The smallest key greater than every key starting with `prefix`, or `nil` when there
    /// is none (the prefix is empty or all 0xFF).
    public static func prefixSuccessor(_ prefix: Bytes) -> Bytes? {
        var successor = prefix
        while let last = successor.last {
            if last < 0xFF {
                successor[successor.count - 1] = last + 1
                return successor
            }
            successor.removeLast()
        }
        return nil
    }
}

/// Refuses a range whose end sorts before its start (RocksDB's behaviour for one is undefined).
func checkRangeOrder(_ start: Bytes, _ end: Bytes, operation: String, path: String?) throws {
    guard !end.lexicographicallyPrecedes(start) else {
        throw StorageError(.invalidArgument, operation: operation, path: path,
                           message: "range end \(end) sorts before its start \(start)")
    }
}

/// Which way a scan walks its range.
public enum ScanDirection: Sendable {
    case forward
    case reverse
}

/// One entry of a column family.
public struct KeyValue: Sendable, Hashable {
    public var key: Bytes
    public var value: Bytes

    public init(key: Bytes, value: Bytes) {
        self.key = key
        self.value = value
    }
}
