/// Reads the big-endian integers and NUL-terminated strings of PostgreSQL's protocol
/// messages. Every read checks the length: a short or malformed message is an error that
/// names what was being read, never a crash.
struct WireReader {
    private let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var isAtEnd: Bool { offset >= bytes.count }

    mutating func byte(_ what: String) throws(WireError) -> UInt8 {
        guard offset < bytes.count else { throw WireError.truncated(what, at: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint16(_ what: String) throws(WireError) -> UInt16 { UInt16(truncatingIfNeeded: try integer(2, what)) }
    mutating func uint32(_ what: String) throws(WireError) -> UInt32 { UInt32(truncatingIfNeeded: try integer(4, what)) }
    mutating func int32(_ what: String) throws(WireError) -> Int32 { Int32(bitPattern: try uint32(what)) }
    mutating func uint64(_ what: String) throws(WireError) -> UInt64 { try integer(8, what) }
    mutating func int64(_ what: String) throws(WireError) -> Int64 { Int64(bitPattern: try uint64(what)) }

    mutating func bytes(_ count: Int, _ what: String) throws(WireError) -> [UInt8] {
        guard count >= 0, offset + count <= bytes.count else { throw WireError.truncated(what, at: offset) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// A NUL-terminated string.
    mutating func string(_ what: String) throws(WireError) -> String {
        guard let end = bytes[offset...].firstIndex(of: 0) else { throw WireError.truncated(what, at: offset) }
        defer { offset = end + 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }

    private mutating func integer(_ width: Int, _ what: String) throws(WireError) -> UInt64 {
        guard offset + width <= bytes.count else { throw WireError.truncated(what, at: offset) }
        var value: UInt64 = 0
        for index in offset..<offset + width { value = value << 8 | UInt64(bytes[index]) }
        offset += width
        return value
    }
}

/// A replication or pgoutput message that could not be read.
public enum WireError: Error, Equatable, CustomStringConvertible {
    case truncated(String, at: Int)
    case unknownMessage(UInt8, at: String)
    case malformed(String)

    public var description: String {
        switch self {
        case .truncated(let what, let offset): "the message ends before its \(what) (byte \(offset))"
        case .unknownMessage(let tag, let place): "unknown \(place) message '\(Character(Unicode.Scalar(tag)))' (\(tag))"
        case .malformed(let what): what
        }
    }
}

/// Builds big-endian messages for the server.
struct WireWriter {
    private(set) var bytes: [UInt8] = []

    mutating func byte(_ value: UInt8) { bytes.append(value) }
    mutating func uint64(_ value: UInt64) { for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) } }
    mutating func int64(_ value: Int64) { uint64(UInt64(bitPattern: value)) }
}
