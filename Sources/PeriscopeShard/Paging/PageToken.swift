import Crypto
import PeriscopeModel
import PeriscopeQuery

/// The secret a node signs page tokens with. Every replica that may serve a namespace's
/// next page must hold the same key.
public struct PageTokenKey: Sendable {
    private let bytes: [UInt8]

    /// - Precondition: at least 32 bytes.
    public init(bytes: [UInt8]) {
        precondition(bytes.count >= 32, "a page token key is at least 32 bytes")
        self.bytes = bytes
    }

    var key: SymmetricKey { SymmetricKey(data: bytes) }
}

/// What a page token remembers: which namespace and query it continues, where the last
/// page ended, and the point in time its pages are read at.
struct PageToken: Equatable, Sendable {
    var namespaceId: String
    /// SHA-256 of the query's canonical plan (its text as `QueryPlan` prints it).
    var fingerprint: [UInt8]
    var cursor: ShardCursor
    var pointInTime: PointInTimeID?

    static let formatV1: UInt8 = 1
    static let macBytes = 32
    static let bytesMax = 64 << 10

    static func fingerprint(of plan: QueryPlan) -> [UInt8] { Array(SHA256.hash(data: Array(plan.description.utf8))) }

    /// `format, payload length, payload, HMAC-SHA256(format ‖ length ‖ payload)`.
    func sealed(with key: PageTokenKey) -> [UInt8] {
        var payload = BinaryWriter()
        payload.string(namespaceId)
        payload.data(fingerprint)
        switch cursor {
        case .position(let bytes):
            payload.byte(1)
            payload.data(bytes)
        case .sortValues(let values):
            payload.byte(2)
            payload.varint(UInt64(values.count))
            for value in values { Self.write(value, to: &payload) }
        }
        if let pointInTime {
            payload.byte(1)
            payload.fixed(pointInTime.shardInstance)
            payload.fixed(pointInTime.sequence)
        } else {
            payload.byte(0)
        }
        var token = BinaryWriter()
        token.byte(Self.formatV1)
        token.data(payload.bytes)
        let mac = HMAC<SHA256>.authenticationCode(for: token.bytes, using: key.key)
        return token.bytes + Array(mac)
    }

    /// Checks the token's integrity first, then what it is for: a token that was altered,
    /// forged (signed with another key) or issued for another namespace or query is refused
    /// with an error that says which.
    static func open(_ bytes: [UInt8], key: PageTokenKey, namespaceId: String, fingerprint: [UInt8]) throws(ShardQueryError) -> PageToken {
        func refuse(_ why: String) -> ShardQueryError { ShardQueryError(.invalidArgument, "invalid page token: \(why)") }
        guard !bytes.isEmpty else { throw refuse("it is empty") }
        guard bytes.count <= bytesMax else { throw refuse("\(bytes.count) bytes, more than any token this server issues") }
        guard bytes[0] == formatV1 else { throw refuse("unknown format \(bytes[0]); it was not issued by this server") }
        guard bytes.count > macBytes + 1 else { throw refuse("\(bytes.count) bytes, too short to be a token") }
        let body = Array(bytes.dropLast(macBytes))
        let mac = Array(bytes.suffix(macBytes))
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: key.key) else {
            throw refuse("its signature does not match: it was altered, forged, or issued by a server with another key")
        }
        let token: PageToken
        do {
            var outer = BinaryReader(body, what: "page token")
            _ = try outer.byte()
            var reader = BinaryReader(try outer.data(), what: "page token payload")
            try outer.expectEnd()
            token = try read(from: &reader)
            try reader.expectEnd()
        } catch {
            throw refuse("\(error)")  // signed by us, so a bug or a version mismatch, but still an answer
        }
        guard token.namespaceId == namespaceId else {
            throw refuse("it was issued for namespace \(token.namespaceId), not \(namespaceId)")
        }
        guard token.fingerprint == fingerprint else {
            throw refuse("it was issued for another query; a page token continues only the query that returned it")
        }
        return token
    }

    private static func read(from reader: inout BinaryReader) throws(DecodingError) -> PageToken {
        let namespaceId = try reader.string()
        let fingerprint = try reader.data()
        let cursor: ShardCursor
        switch try reader.byte() {
        case 1: cursor = .position(try reader.data())
        case 2:
            let count = try reader.count(max: 64)
            var values: [QueryValue?] = []
            for _ in 0..<count { values.append(try readValue(from: &reader)) }
            cursor = .sortValues(values)
        case let other: throw reader.failure("unknown cursor kind \(other)")
        }
        let pointInTime: PointInTimeID?
        switch try reader.byte() {
        case 0: pointInTime = nil
        case 1: pointInTime = PointInTimeID(shardInstance: try reader.fixed(), sequence: try reader.fixed())
        case let other: throw reader.failure("unknown point-in-time marker \(other)")
        }
        return PageToken(namespaceId: namespaceId, fingerprint: fingerprint, cursor: cursor, pointInTime: pointInTime)
    }

    private static func write(_ value: QueryValue?, to writer: inout BinaryWriter) {
        switch value {
        case nil: writer.byte(0)
        case .string(let string)?:
            writer.byte(1)
            writer.string(string)
        case .int(let number)?:
            writer.byte(2)
            writer.signed(number)
        case .double(let number)?:
            writer.byte(3)
            writer.fixed(number.bitPattern)
        case .bool(let flag)?:
            writer.byte(4)
            writer.byte(flag ? 1 : 0)
        case .datetime(let time)?:
            writer.byte(5)
            writer.signed(time.nanosecondsSinceEpoch)
        case .status(let status)?:
            writer.byte(6)
            writer.signed(Int64(status.rawValue))
        }
    }

    private static func readValue(from reader: inout BinaryReader) throws(DecodingError) -> QueryValue? {
        switch try reader.byte() {
        case 0: return nil
        case 1: return .string(try reader.string())
        case 2: return .int(try reader.signed())
        case 3: return .double(Double(bitPattern: try reader.fixed()))
        case 4: return .bool(try reader.byte() != 0)
        case 5: return .datetime(Timestamp(nanosecondsSinceEpoch: try reader.signed()))
        case 6:
            let raw = try reader.signed()
            guard let status = Int32(exactly: raw).flatMap(ExecutionStatus.init(rawValue:)) else {
                throw reader.failure("unknown execution status \(raw)")
            }
            return .status(status)
        case let other: throw reader.failure("unknown value kind \(other)")
        }
    }
}
