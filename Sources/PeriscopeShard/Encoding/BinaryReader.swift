/// Why stored or proposed bytes could not be decoded. Entries and stored values are written
/// by Periscope itself, so this means corruption or a version this build does not know; it
/// is reported, never a crash.
public struct DecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public let what: String
    public let offset: Int
    public let reason: String

    public var description: String { "cannot decode \(what) at byte \(offset): \(reason)" }
}

/// Reads what `BinaryWriter` writes, checking every length against the bytes left.
package struct BinaryReader {
    private let bytes: [UInt8]
    private let what: String
    package private(set) var offset = 0

    package init(_ bytes: [UInt8], what: String) {
        self.bytes = bytes
        self.what = what
    }

    package var isAtEnd: Bool { offset == bytes.count }

    package func failure(_ reason: String) -> DecodingError { DecodingError(what: what, offset: offset, reason: reason) }

    package mutating func byte() throws(DecodingError) -> UInt8 {
        guard offset < bytes.count else { throw failure("unexpected end") }
        defer { offset += 1 }
        return bytes[offset]
    }

    package mutating func varint() throws(DecodingError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            guard shift < 64, shift < 63 || next <= 1 else { throw failure("varint longer than 64 bits") }
            value |= UInt64(next & 0x7F) << shift
            if next < 0x80 { return value }
            shift += 7
        }
    }

    package mutating func signed() throws(DecodingError) -> Int64 {
        let raw = try varint()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    package mutating func fixed() throws(DecodingError) -> UInt64 {
        guard bytes.count - offset >= 8 else { throw failure("expected 8 bytes, found \(bytes.count - offset)") }
        var value: UInt64 = 0
        for index in offset..<offset + 8 { value = value << 8 | UInt64(bytes[index]) }
        offset += 8
        return value
    }

    package mutating func count(max: Int) throws(DecodingError) -> Int {
        let value = try varint()
        guard value <= UInt64(max) else { throw failure("count \(value) exceeds \(max)") }
        return Int(value)
    }

    package mutating func data() throws(DecodingError) -> [UInt8] {
        let declared = try varint()
        guard declared <= UInt64(bytes.count - offset) else {
            throw failure("length \(declared) exceeds the \(bytes.count - offset) bytes left")
        }
        let length = Int(declared)
        defer { offset += length }
        return Array(bytes[offset..<offset + length])
    }

    package mutating func string() throws(DecodingError) -> String {
        let start = offset
        let raw = try data()
        guard let string = String(validating: raw, as: UTF8.self) else {
            throw DecodingError(what: what, offset: start, reason: "string is not valid UTF-8")
        }
        return string
    }

    package func expectEnd() throws(DecodingError) {
        guard isAtEnd else { throw failure("\(bytes.count - offset) unexpected trailing bytes") }
    }
}
