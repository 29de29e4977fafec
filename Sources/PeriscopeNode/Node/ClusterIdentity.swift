import Foundation
import PeriscopeShard

/// What a data directory was created as: `cluster.json`, written once (atomically, fsync'd)
/// when the directory is first used and checked at every start. The page-token key lives
/// here so that tokens survive restarts (and, in a region, are shared by every node).
struct ClusterIdentity: Codable, Equatable {
    var format = 1
    var clusterID: String
    var region: String
    var nodeID: UInt64
    var shardCount: Int
    /// Base64 of 32 random bytes.
    var pageTokenKey: String

    static let fileName = "cluster.json"

    /// Reads the identity of `directory`, or creates one from `configuration` if the
    /// directory is new. A directory created with another shard count or node id refuses to
    /// start: records are hashed onto shards, so the count cannot change under them.
    static func loadOrCreate(in directory: String, configuration: NodeConfiguration) throws -> ClusterIdentity {
        let path = directory + "/" + fileName
        if FileManager.default.fileExists(atPath: path) {
            let identity: ClusterIdentity
            do {
                identity = try JSONDecoder().decode(ClusterIdentity.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw ShardError("\(path) is unreadable (\(error)); it says what this data directory is, restore it from a backup")
            }
            guard identity.format == 1 else { throw ShardError("\(path) has format \(identity.format); this build reads format 1") }
            guard identity.shardCount == configuration.shardCount else {
                throw ShardError("\(directory) was created with \(identity.shardCount) shards; started with --shards "
                    + "\(configuration.shardCount) (the shard count is fixed when a region is created)")
            }
            guard identity.nodeID == configuration.nodeID else {
                throw ShardError("\(directory) belongs to node \(identity.nodeID); started as node \(configuration.nodeID)")
            }
            guard identity.pageTokenKeyBytes?.count == 32 else { throw ShardError("\(path): the page token key is not 32 bytes of base64") }
            return identity
        }
        guard configuration.shardCount >= 1, configuration.shardCount <= 1_024 else {
            throw ShardError("a region has 1 ... 1024 shards; asked for \(configuration.shardCount)")
        }
        var generator = SystemRandomNumberGenerator()
        let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let identity = ClusterIdentity(clusterID: UUID().uuidString.lowercased(), region: configuration.region,
                                       nodeID: configuration.nodeID, shardCount: configuration.shardCount,
                                       pageTokenKey: Data(key).base64EncodedString())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeDurably(try encoder.encode(identity), to: path)
        return identity
    }

    var pageTokenKeyBytes: [UInt8]? { Data(base64Encoded: pageTokenKey).map(Array.init) }

    /// Temporary file, fsync, rename, fsync of the directory: the file is whole or absent.
    private static func writeDurably(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw ShardError("cannot create \(temporary)")
        }
        let file = try FileHandle(forUpdating: URL(fileURLWithPath: temporary))
        try file.synchronize()
        try file.close()
        guard rename(temporary, path) == 0 else { throw ShardError("cannot rename \(temporary) to \(path): errno \(errno)") }
        let directory = open((path as NSString).deletingLastPathComponent, O_RDONLY)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }
}
