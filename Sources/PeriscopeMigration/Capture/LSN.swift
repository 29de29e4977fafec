import PeriscopePostgres

/// A position in PostgreSQL's write-ahead log (a log sequence number), written `X/Y` (two
/// hexadecimal halves) as the server prints it.
public struct LSN: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: UInt64

    public init(_ value: UInt64) { self.value = value }

    /// Parses `X/Y`; nil if it is not one.
    public init?(_ text: String) {
        let halves = text.split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2, let high = UInt32(halves[0], radix: 16), let low = UInt32(halves[1], radix: 16) else { return nil }
        value = UInt64(high) << 32 | UInt64(low)
    }

    public static let zero = LSN(0)

    /// The source's current WAL position (`pg_current_wal_lsn()`): every change committed so far lies below it.
    public static func current(on connection: PostgresConnection) throws -> LSN {
        try connection.query("SELECT pg_current_wal_lsn()::text").scalar.flatMap(LSN.init) ?? .zero
    }

    public static func < (lhs: LSN, rhs: LSN) -> Bool { lhs.value < rhs.value }

    public var description: String { String(value >> 32, radix: 16, uppercase: true) + "/" + String(value & 0xFFFF_FFFF, radix: 16, uppercase: true) }
}

extension LSN: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = LSN(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not an LSN"))
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
