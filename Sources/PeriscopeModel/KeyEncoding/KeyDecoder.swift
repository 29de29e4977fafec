/// Why bytes could not be decoded as a key. Keys can arrive from outside (page tokens), so
/// malformed input is an error, never a crash.
public struct KeyDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public var description: String { "malformed key at byte \(offset): \(reason)" }
}

/// Reads back the tuples `KeyEncoder` writes, element by element, with their directions.
public struct KeyDecoder: Sendable {
    private let bytes: [UInt8]
    public private(set) var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isAtEnd: Bool { offset == bytes.count }

    /// Decodes a whole key.
    public static func decode(_ bytes: [UInt8]) throws(KeyDecodingError) -> [(TupleElement, SortDirection)] {
        var decoder = KeyDecoder(bytes)
        var elements: [(TupleElement, SortDirection)] = []
        while !decoder.isAtEnd { elements.append(try decoder.next()) }
        return elements
    }

    /// The next element and its direction.
    public mutating func next() throws(KeyDecodingError) -> (TupleElement, SortDirection) {
        guard offset < bytes.count else { throw error("expected an element, found the end of the key") }
        let start = offset
        let direction: SortDirection = bytes[offset] < 0x80 ? .ascending : .descending
        let flip: UInt8 = direction == .ascending ? 0x00 : 0xFF
        func read(_ index: Int) -> UInt8 { bytes[index] ^ flip }

        let code = read(offset)
        offset += 1
        let element: TupleElement
        switch code {
        case TypeCode.null: element = .null
        case TypeCode.false: element = .bool(false)
        case TypeCode.true: element = .bool(true)
        case TypeCode.int: element = .int(Int64(bitPattern: try fixed(flip) ^ KeyEncoder.signBit))
        case TypeCode.timestamp:
            element = .timestamp(Timestamp(nanosecondsSinceEpoch: Int64(bitPattern: try fixed(flip) ^ KeyEncoder.signBit)))
        case TypeCode.double:
            let ordered = try fixed(flip)
            let bits = ordered & KeyEncoder.signBit != 0 ? ordered ^ KeyEncoder.signBit : ~ordered
            element = .double(Double(bitPattern: bits))
        case TypeCode.string:
            let raw = try escaped(flip)
            guard let string = String(validating: raw, as: UTF8.self) else {
                throw KeyDecodingError(offset: start, reason: "string element is not valid UTF-8")
            }
            element = .string(string)
        case TypeCode.bytes: element = .bytes(try escaped(flip))
        default:
            offset = start
            throw error("unknown type byte 0x\(String(bytes[start], radix: 16))")
        }
        return (element, direction)
    }

    private mutating func fixed(_ flip: UInt8) throws(KeyDecodingError) -> UInt64 {
        guard offset + 8 <= bytes.count else { throw error("expected 8 bytes, found \(bytes.count - offset)") }
        var value: UInt64 = 0
        for index in offset..<offset + 8 { value = value << 8 | UInt64(bytes[index] ^ flip) }
        offset += 8
        return value
    }

    private mutating func escaped(_ flip: UInt8) throws(KeyDecodingError) -> [UInt8] {
        var raw: [UInt8] = []
        while offset < bytes.count {
            let byte = bytes[offset] ^ flip
            offset += 1
            guard byte == 0x00 else {
                raw.append(byte)
                continue
            }
            guard offset < bytes.count else { throw error("string ends inside an escape") }
            let follower = bytes[offset] ^ flip
            offset += 1
            switch follower {
            case KeyEncoder.escapedZeroFollower: raw.append(0x00)
            case KeyEncoder.terminator[1]: return raw
            default: throw error("invalid escape 0x00 0x\(String(follower, radix: 16))")
            }
        }
        throw error("string has no terminator")
    }

    private func error(_ reason: String) -> KeyDecodingError { KeyDecodingError(offset: offset, reason: reason) }
}
