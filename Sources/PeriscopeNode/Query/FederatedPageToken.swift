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

    /// `format, namespace, fingerprint, shard count, (state[, shard token])*` in the stored
    /// formats' primitives (`BinaryWriter`), then HMAC-SHA256 of all of it.
    func sealed(with key: SymmetricKey) -> [UInt8] {
        var writer = BinaryWriter()
        writer.byte(Self.format)
        writer.string(namespaceId)
        writer.data(fingerprint)
        writer.varint(UInt64(shards.count))
        for state in shards {
            switch state {
            case .fromStart: writer.byte(0)
            case .done: writer.byte(1)
            case .after(let token):
                writer.byte(2)
                writer.data(token)
            }
        }
        return writer.bytes + Array(HMAC<SHA256>.authenticationCode(for: writer.bytes, using: key))
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
        var reader = BinaryReader(body, what: "page token")
        let namespace: String, print: [UInt8], count: Int
        var shards: [ShardState] = []
        do {
            _ = try reader.byte()
            (namespace, print, count) = (try reader.string(), try reader.data(), try reader.count(max: 1 << 16))
            guard namespace == namespaceId else { throw refuse("it was issued for another namespace") }
            guard print == fingerprint else { throw refuse("it was issued for another query; send the same query as the first page") }
            guard count == shardCount else { throw refuse("it was issued for a region of \(count) shards; this one has \(shardCount)") }
            for _ in 0..<count {
                switch try reader.byte() {
                case 0: shards.append(.fromStart)
                case 1: shards.append(.done)
                case 2: shards.append(.after(try reader.data()))
                case let other: throw refuse("unknown shard state \(other)")
                }
            }
            try reader.expectEnd()
        } catch let error as ShardQueryError {
            throw error
        } catch {
            throw refuse("its signed body is malformed: \(error)")
        }
        return FederatedPageToken(namespaceId: namespaceId, fingerprint: fingerprint, shards: shards)
    }
}

/// What a write returns for read-your-writes: the region that took it and the applied
/// index of every shard it wrote, as `format, region: varint, (shard: varint, index: fixed
/// 8 bytes)*` (format 2, from before regions federated, has no region: the local one). Not
/// secret: a forged one can only make its own reader wait, and one naming an index its shard
/// has not reached is refused.
public enum NodeConsistencyToken {
    static let formatWithoutRegion: UInt8 = 2
    static let format: UInt8 = 3

    public static func make(_ indexes: [Int: UInt64], region: UInt32) -> [UInt8] {
        var writer = BinaryWriter()
        writer.byte(format)
        writer.varint(UInt64(region))
        for (shard, index) in indexes.sorted(by: { $0.key < $1.key }) {
            writer.varint(UInt64(shard))
            writer.fixed(index)
        }
        return writer.bytes
    }

    /// The region (nil: format 2, the local one) and each shard's index.
    static func parse(_ token: [UInt8], shardCount: Int) throws(ShardQueryError) -> (region: UInt32?, indexes: [Int: UInt64]) {
        func refuse(_ why: String) -> ShardQueryError { ShardQueryError(.invalidArgument, "invalid consistency token: \(why)") }
        guard token.first == format || token.first == formatWithoutRegion else {
            throw refuse("it does not start with format \(format); pass the bytes a write returned")
        }
        // A token naming no shard (a batch none of whose writes was applied) asks for nothing.
        var reader = BinaryReader(token, what: "consistency token")
        var indexes: [Int: UInt64] = [:]
        var region: UInt32?
        do {
            if try reader.byte() == format {
                let raw = try reader.varint()
                guard let index = UInt32(exactly: raw) else { throw refuse("region \(raw) is out of range") }
                region = index
            }
            while !reader.isAtEnd {
                let shard = try reader.varint()
                let index = try reader.fixed()
                guard shard < UInt64(shardCount) else { throw refuse("it names shard \(shard); this region has \(shardCount)") }
                indexes[Int(shard)] = max(indexes[Int(shard)] ?? 0, index)
            }
        } catch let error as ShardQueryError {
            throw error
        } catch {
            throw refuse("\(error)")
        }
        return (region, indexes)
    }
}
