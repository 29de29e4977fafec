import Crypto
import PeriscopeQuery
import PeriscopeShard

/// The page token of a list over every shard of a region: where each shard's listing
/// stands. Each shard's own token is signed by the shard; the whole is signed again
/// (HMAC-SHA256) so that nobody can mark a shard finished or swap in another listing's
/// state, and it is bound to the namespace and the query, like a shard token.
struct FederatedPageToken: Equatable {
    enum ShardState: Equatable {
        /// The shard has contributed nothing yet: its listing starts at its first page.
        case fromStart
        /// Everything the shard had was returned.
        case done
        /// The shard's own page token: its listing continues there.
        case after([UInt8])
    }

    var namespaceId: String
    var fingerprint: [UInt8]
    var shards: [ShardState]

    static let format: UInt8 = 1
    static let macBytes = 32
    /// Bigger than any token a node issues (shard tokens are a few hundred bytes each).
    static let bytesMax = 1 << 20

    static func fingerprint(of plan: QueryPlan) -> [UInt8] { Array(SHA256.hash(data: Array(plan.description.utf8))) }

    func sealed(with key: SymmetricKey) -> [UInt8] {
        var bytes: [UInt8] = [Self.format]
        Self.appendData(Array(namespaceId.utf8), to: &bytes)
        Self.appendData(fingerprint, to: &bytes)
        Self.appendUInt32(UInt32(shards.count), to: &bytes)
        for state in shards {
            switch state {
            case .fromStart: bytes.append(0)
            case .done: bytes.append(1)
            case .after(let token):
                bytes.append(2)
                Self.appendData(token, to: &bytes)
            }
        }
        return bytes + Array(HMAC<SHA256>.authenticationCode(for: bytes, using: key))
    }

    /// Checks the signature first, then what the token is for; every refusal says why.
    static func open(_ token: [UInt8], key: SymmetricKey, namespaceId: String, fingerprint: [UInt8],
                     shardCount: Int) throws(ShardQueryError) -> FederatedPageToken {
        func refuse(_ why: String) -> ShardQueryError { ShardQueryError(.invalidArgument, "invalid page token: \(why)") }
        guard token.count <= bytesMax else { throw refuse("\(token.count) bytes, more than any token this server issues") }
        guard token.count > macBytes + 1 else { throw refuse("\(token.count) bytes, too short to be a token") }
        guard token[0] == format else { throw refuse("unknown format \(token[0]); it was not issued by this server") }
        let body = Array(token.dropLast(macBytes))
        guard HMAC<SHA256>.isValidAuthenticationCode(Array(token.suffix(macBytes)), authenticating: body, using: key) else {
            throw refuse("its signature does not match: it was altered, forged, or issued by another region")
        }
        var reader = Reader(bytes: body, offset: 1)
        guard let namespace = reader.data(), let print = reader.data(), let count = reader.uint32() else {
            throw refuse("its signed body is malformed")
        }
        guard String(decoding: namespace, as: UTF8.self) == namespaceId else {
            throw refuse("it was issued for another namespace")
        }
        guard print == fingerprint else { throw refuse("it was issued for another query; send the same query as the first page") }
        guard Int(count) == shardCount else { throw refuse("it was issued for a region of \(count) shards; this one has \(shardCount)") }
        var shards: [ShardState] = []
        for _ in 0..<count {
            switch reader.byte() {
            case 0?: shards.append(.fromStart)
            case 1?: shards.append(.done)
            case 2?:
                guard let inner = reader.data() else { throw refuse("its signed body is malformed") }
                shards.append(.after(inner))
            default: throw refuse("its signed body is malformed")
            }
        }
        guard reader.offset == body.count else { throw refuse("its signed body is malformed") }
        return FederatedPageToken(namespaceId: namespaceId, fingerprint: fingerprint, shards: shards)
    }

    private static func appendUInt32(_ value: UInt32, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    private static func appendData(_ data: [UInt8], to bytes: inout [UInt8]) {
        appendUInt32(UInt32(data.count), to: &bytes)
        bytes.append(contentsOf: data)
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset: Int

        mutating func byte() -> UInt8? {
            guard offset < bytes.count else { return nil }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func uint32() -> UInt32? {
            guard offset + 4 <= bytes.count else { return nil }
            defer { offset += 4 }
            return bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }

        mutating func data() -> [UInt8]? {
            guard let count = uint32().map(Int.init), offset + count <= bytes.count else { return nil }
            defer { offset += count }
            return Array(bytes[offset..<offset + count])
        }
    }
}

/// What a write returns for read-your-writes: the applied index of every shard it wrote,
/// as `format, (shard: UInt32, index: UInt64)*`, big-endian. Not secret: a forged one can
/// only make its own reader wait, and one naming an index its shard has not committed is
/// refused.
public enum NodeConsistencyToken {
    static let format: UInt8 = 2

    public static func make(_ indexes: [Int: UInt64]) -> [UInt8] {
        var bytes: [UInt8] = [format]
        for (shard, index) in indexes.sorted(by: { $0.key < $1.key }) {
            withUnsafeBytes(of: UInt32(shard).bigEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: index.bigEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    static func parse(_ token: [UInt8], shardCount: Int) throws(ShardQueryError) -> [Int: UInt64] {
        func refuse(_ why: String) -> ShardQueryError { ShardQueryError(.invalidArgument, "invalid consistency token: \(why)") }
        guard token.first == format else { throw refuse("it does not start with format \(format); pass the bytes a write returned") }
        // A token naming no shard (a batch none of whose writes was applied) asks for nothing.
        guard (token.count - 1) % 12 == 0 else { throw refuse("\(token.count) bytes is not 1 + 12 per shard") }
        var indexes: [Int: UInt64] = [:]
        var offset = 1
        while offset < token.count {
            let shard = Int(token[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            let index = token[offset + 4..<offset + 12].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard shard < shardCount else { throw refuse("it names shard \(shard); this region has \(shardCount)") }
            indexes[shard] = max(indexes[shard] ?? 0, index)
            offset += 12
        }
        return indexes
    }
}
