/// One element of an encoded key.
///
/// Keys are tuples (`namespace, attribute, value, runId`, ...) encoded so that comparing the
/// bytes compares the tuples: RocksDB orders keys by bytes, so every index range and sort
/// order in Periscope is a byte range of such keys. The idea is FoundationDB's tuple layer;
/// the byte layout is our own (see `KeyEncoder`).
public enum TupleElement: Hashable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case timestamp(Timestamp)
    /// Ordered by UTF-8 bytes (equivalently, by Unicode scalar values), not by Swift's
    /// `String <`, which compares canonically equivalent strings as equal.
    case string(String)
    case bytes([UInt8])

    public var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): String(value)
        case .int(let value): String(value)
        case .double(let value): String(value)
        case .timestamp(let value): value.rfc3339
        case .string(let value): "\"\(value)\""
        case .bytes(let value): "0x" + value.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        }
    }
}

/// The order an element sorts in within its key.
public enum SortDirection: Sendable, Hashable {
    case ascending
    case descending
}

extension String {
    func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: Swift.max(0, width - count)) + self
    }
}
