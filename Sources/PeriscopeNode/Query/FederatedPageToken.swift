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
        Self.seal(format: Self.format, namespaceId: namespaceId, fingerprint: fingerprint, key: key) { Self.write(shards, to: &$0) }
    }

    /// Checks the signature first, then what the token is for; every refusal says why.
    static func open(_ token: [UInt8], key: SymmetricKey, namespaceId: String, fingerprint: [UInt8],
                     shardCount: Int) throws(ShardQueryError) -> FederatedPageToken {
        let shards = try unseal(token, format: format, key: key, namespaceId: namespaceId, fingerprint: fingerprint) { reader in
            let states = try readStates(&reader)
            guard states.count == shardCount else {
                throw refusal("it was issued for a region of \(states.count) shards; this one has \(shardCount)")
            }
            return states
        }
        return FederatedPageToken(namespaceId: namespaceId, fingerprint: fingerprint, shards: shards)
    }

    // MARK: The framing both page tokens share

    static func refusal(_ why: String) -> ShardQueryError { ShardQueryError(.invalidArgument, "invalid page token: \(why)") }

    static func seal(format: UInt8, namespaceId: String, fingerprint: [UInt8], key: SymmetricKey,
                     body: (inout BinaryWriter) -> Void) -> [UInt8] {
        var writer = BinaryWriter()
        writer.byte(format)
        writer.string(namespaceId)
        writer.data(fingerprint)
        body(&writer)
        return writer.bytes + Array(HMAC<SHA256>.authenticationCode(for: writer.bytes, using: key))
    }

    /// The body after the common header, once the format, the signature, the namespace and
    /// the query are checked (in that order, so a forged token learns nothing else).
    static func unseal<Body>(_ token: [UInt8], format: UInt8, key: SymmetricKey, namespaceId: String, fingerprint: [UInt8],
                             body: (inout BinaryReader) throws -> Body) throws(ShardQueryError) -> Body {
        guard token.count <= bytesMax else { throw refusal("\(token.count) bytes, more than any token this server issues") }
        guard token.count > macBytes + 1 else { throw refusal("\(token.count) bytes, too short to be a token") }
        guard token[0] == format else {
            if token[0] == Self.format || token[0] == DeploymentPageToken.format {
                throw refusal(token[0] == Self.format ? "it was issued for a query of one region; send it without federation"
                                                      : "it was issued for a federated query; send it with federation")
            }
            throw refusal("unknown format \(token[0]); it was not issued by this server")
        }
        let signed = Array(token.dropLast(macBytes))
        guard HMAC<SHA256>.isValidAuthenticationCode(Array(token.suffix(macBytes)), authenticating: signed, using: key) else {
            throw refusal("its signature does not match: it was altered, forged, or issued by another region or deployment")
        }
        var reader = BinaryReader(signed, what: "page token")
        do {
            _ = try reader.byte()
            guard try reader.string() == namespaceId else { throw refusal("it was issued for another namespace") }
            guard try reader.data() == fingerprint else { throw refusal("it was issued for another query; send the same query as the first page") }
            let result = try body(&reader)
            try reader.expectEnd()
            return result
        } catch let error as ShardQueryError {
            throw error
        } catch {
            throw refusal("its signed body is malformed: \(error)")
        }
    }

    static func write(_ states: [ShardState], to writer: inout BinaryWriter) {
        writer.varint(UInt64(states.count))
        for state in states {
            switch state {
            case .fromStart: writer.byte(0)
            case .done: writer.byte(1)
            case .after(let token):
                writer.byte(2)
                writer.data(token)
            }
        }
    }

    static func readStates(_ reader: inout BinaryReader) throws -> [ShardState] {
        var states: [ShardState] = []
        for _ in 0..<(try reader.count(max: 1 << 16)) {
            switch try reader.byte() {
            case 0: states.append(.fromStart)
            case 1: states.append(.done)
            case 2: states.append(.after(try reader.data()))
            case let other: throw refusal("unknown shard state \(other)")
            }
        }
        return states
    }
}

/// The page token of a federated list: where each shard of each region stands, for the
/// namespace, the query and the namespace's failover version the listing started under
/// (a failover moves which region answers for which executions, so a listing does not span
/// one). Signed with a key derived from the deployment's secret, the same in every region:
/// any node of any region continues it, and a token of another deployment is refused.
struct DeploymentPageToken: Equatable {
    var namespaceId: String
    var fingerprint: [UInt8]
    var failoverVersion: Int64
    /// By region name; empty for a region that has not answered yet (it starts from its
    /// first page once it does).
    var regions: [String: [FederatedPageToken.ShardState]]

    static let format: UInt8 = 4

    var isFinished: Bool { regions.values.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0 == .done } } }

    func sealed(with key: SymmetricKey) -> [UInt8] {
        FederatedPageToken.seal(format: Self.format, namespaceId: namespaceId, fingerprint: fingerprint, key: key) { writer in
            writer.fixed(UInt64(bitPattern: failoverVersion))
            writer.varint(UInt64(regions.count))
            for (region, states) in regions.sorted(by: { $0.key < $1.key }) {
                writer.string(region)
                FederatedPageToken.write(states, to: &writer)
            }
        }
    }

    static func open(_ token: [UInt8], key: SymmetricKey, namespaceId: String, fingerprint: [UInt8],
                     failoverVersion: Int64) throws(ShardQueryError) -> DeploymentPageToken {
        let (version, regions) = try FederatedPageToken.unseal(token, format: format, key: key, namespaceId: namespaceId,
                                                               fingerprint: fingerprint) { reader in
            let version = Int64(bitPattern: try reader.fixed())
            var regions: [String: [FederatedPageToken.ShardState]] = [:]
            for _ in 0..<(try reader.count(max: DeploymentDirectory.regionsMax)) {
                regions[try reader.string()] = try FederatedPageToken.readStates(&reader)
            }
            return (version, regions)
        }
        guard version == failoverVersion else {
            throw FederatedPageToken.refusal("the namespace failed over since the listing began (failover version \(version), now "
                + "\(failoverVersion)), which moves the regions that answer for its executions; list again from the first page")
        }
        return DeploymentPageToken(namespaceId: namespaceId, fingerprint: fingerprint, failoverVersion: version, regions: regions)
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
