/// Builds order-preserving binary keys from tuples.
///
/// Layout of one element, ascending: a type byte, then
/// - null, false, true: nothing more (the type byte is the value);
/// - int, timestamp: 8 bytes big-endian with the sign bit flipped (so negatives sort first);
/// - double: 8 bytes of the IEEE-754 bits, sign bit flipped for positives and all bits
///   flipped for negatives (the standard total-order trick); -0.0 is written as +0.0 and
///   every NaN as one NaN that sorts above +infinity;
/// - string (UTF-8), bytes: the bytes with 0x00 written as 0x00 0xFF, then 0x00 0x01.
///   The terminator sorts below any continuation, so "a" < "a\0" < "ab", and no encoding
///   is a prefix of another.
///
/// Descending: the ascending encoding with every byte complemented. Because every element
/// encoding is prefix-free, complementing reverses the order exactly. Type bytes are below
/// 0x80 ascending and above it descending, so the direction is readable when decoding.
///
/// Within one position, elements of different types sort by type: null < false < true <
/// int < double < timestamp < string < bytes (ascending).
public struct KeyEncoder: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Encodes a whole tuple at once.
    public static func encode(_ elements: [TupleElement], direction: SortDirection = .ascending) -> [UInt8] {
        var encoder = KeyEncoder()
        for element in elements { encoder.append(element, direction) }
        return encoder.bytes
    }

    public mutating func append(_ element: TupleElement, _ direction: SortDirection = .ascending) {
        let start = bytes.count
        appendAscending(element)
        if direction == .descending { complement(from: start) }
    }

    /// Appends the encoding of a string's *beginning*: the encoded keys of every string that
    /// starts with `prefix` (in this position, ascending) start with these bytes. For
    /// STARTS_WITH scans. Nothing may be appended after it.
    public mutating func appendStringPrefix(_ prefix: String) {
        bytes.append(TypeCode.string)
        appendEscaped(Array(prefix.utf8))
    }

    private mutating func appendAscending(_ element: TupleElement) {
        switch element {
        case .null: bytes.append(TypeCode.null)
        case .bool(let value): bytes.append(value ? TypeCode.true : TypeCode.false)
        case .int(let value):
            bytes.append(TypeCode.int)
            appendBigEndian(UInt64(bitPattern: value) ^ Self.signBit)
        case .double(let value):
            bytes.append(TypeCode.double)
            appendBigEndian(Self.orderedBits(value))
        case .timestamp(let value):
            bytes.append(TypeCode.timestamp)
            appendBigEndian(UInt64(bitPattern: value.nanosecondsSinceEpoch) ^ Self.signBit)
        case .string(let value):
            bytes.append(TypeCode.string)
            appendEscaped(Array(value.utf8))
            bytes.append(contentsOf: Self.terminator)
        case .bytes(let value):
            bytes.append(TypeCode.bytes)
            appendEscaped(value)
            bytes.append(contentsOf: Self.terminator)
        }
    }

    private mutating func appendEscaped(_ raw: [UInt8]) {
        for byte in raw {
            bytes.append(byte)
            if byte == 0x00 { bytes.append(Self.escapedZeroFollower) }
        }
    }

    private mutating func appendBigEndian(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    private mutating func complement(from start: Int) {
        for index in start..<bytes.count { bytes[index] = ~bytes[index] }
    }

    static let signBit: UInt64 = 1 << 63
    static let terminator: [UInt8] = [0x00, 0x01]
    static let escapedZeroFollower: UInt8 = 0xFF
    static let canonicalNaNBits: UInt64 = 0x7FF8_0000_0000_0000

    static func orderedBits(_ value: Double) -> UInt64 {
        let canonical = value.isNaN ? Double(bitPattern: canonicalNaNBits) : (value == 0 ? 0.0 : value)
        let bits = canonical.bitPattern
        return bits & signBit != 0 ? ~bits : bits ^ signBit
    }
}

/// Ascending type bytes. All below 0x80, so complemented (descending) ones are above it.
enum TypeCode {
    static let null: UInt8 = 0x05
    static let `false`: UInt8 = 0x10
    static let `true`: UInt8 = 0x11
    static let int: UInt8 = 0x20
    static let double: UInt8 = 0x30
    static let timestamp: UInt8 = 0x40
    static let string: UInt8 = 0x50
    static let bytes: UInt8 = 0x60
}
