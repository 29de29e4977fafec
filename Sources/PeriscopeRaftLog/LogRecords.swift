import PeriscopeRaft
import PeriscopeStorage

/// Key layout: every group's records share an 8-byte big-endian group prefix, so one group's
/// log is one contiguous key range and a group can be dropped with one range delete.
///
///     group | 0x01                 hard state
///     group | 0x02                 latest snapshot (metadata and data)
///     group | 0x03                 compaction point (index, term)
///     group | 0x10 | index (BE)    entry
enum LogKey {
    static let hardStateTag: UInt8 = 0x01
    static let snapshotTag: UInt8 = 0x02
    static let compactionTag: UInt8 = 0x03
    static let entryTag: UInt8 = 0x10

    static func group(_ group: GroupID) -> Bytes { bigEndian(group) }
    static func hardState(_ group: GroupID) -> Bytes { bigEndian(group) + [hardStateTag] }
    static func snapshot(_ group: GroupID) -> Bytes { bigEndian(group) + [snapshotTag] }
    static func compaction(_ group: GroupID) -> Bytes { bigEndian(group) + [compactionTag] }
    static func entry(_ group: GroupID, _ index: LogIndex) -> Bytes { bigEndian(group) + [entryTag] + bigEndian(index) }
    static func entries(_ group: GroupID) -> Bytes { bigEndian(group) + [entryTag] }
    /// The first key after every entry of `group`.
    static func entriesEnd(_ group: GroupID) -> Bytes { bigEndian(group) + [entryTag + 1] }

    static func groupOfKey(_ key: Bytes) -> GroupID? { key.count >= 8 ? readBigEndian(key[0..<8]) : nil }
    static func indexOfEntryKey(_ key: Bytes) -> LogIndex? {
        key.count == 17 && key[8] == entryTag ? readBigEndian(key[9..<17]) : nil
    }
}

/// PeriscopeStorage has a `Snapshot` too (a RocksDB read snapshot); here it is always Raft's.
public typealias Snapshot = PeriscopeRaft.Snapshot

/// A group's id on a node (a shard's Raft group).
public typealias GroupID = UInt64

/// Binary encodings of the records. Fixed-width big-endian integers; a record that does not
/// decode is corruption, reported with its key.
enum LogCoding {
    static func encode(_ entry: Entry) -> Bytes { bigEndian(entry.term) + [entry.kind.rawValue] + entry.data }

    static func decodeEntry(_ bytes: Bytes, index: LogIndex) -> Entry? {
        guard bytes.count >= 9, let kind = Entry.Kind(rawValue: bytes[8]) else { return nil }
        return Entry(term: readBigEndian(bytes[0..<8]), index: index, kind: kind, data: Array(bytes[9...]))
    }

    static func encode(_ state: HardState) -> Bytes { bigEndian(state.term) + bigEndian(state.vote) + bigEndian(state.commit) }

    static func decodeHardState(_ bytes: Bytes) -> HardState? {
        guard bytes.count == 24 else { return nil }
        return HardState(term: readBigEndian(bytes[0..<8]), vote: readBigEndian(bytes[8..<16]), commit: readBigEndian(bytes[16..<24]))
    }

    static func encodeCompaction(index: LogIndex, term: Term) -> Bytes { bigEndian(index) + bigEndian(term) }

    static func decodeCompaction(_ bytes: Bytes) -> (index: LogIndex, term: Term)? {
        guard bytes.count == 16 else { return nil }
        return (readBigEndian(bytes[0..<8]), readBigEndian(bytes[8..<16]))
    }

    /// index, term, voter count, voters, learner count, learners, data.
    static func encode(_ snapshot: Snapshot) -> Bytes {
        let metadata = snapshot.metadata
        var bytes = bigEndian(metadata.index) + bigEndian(metadata.term)
        for members in [metadata.confState.voters, metadata.confState.learners] {
            bytes += bigEndian(UInt64(members.count))
            for member in members.sorted() { bytes += bigEndian(member) }
        }
        return bytes + snapshot.data
    }

    static func decodeSnapshot(_ bytes: Bytes) -> Snapshot? {
        var reader = ByteReader(bytes)
        guard let index = reader.uint64(), let term = reader.uint64() else { return nil }
        var memberSets: [Set<NodeID>] = []
        for _ in 0..<2 {
            guard let count = reader.uint64(), count <= UInt64(bytes.count / 8) else { return nil }
            var members = Set<NodeID>()
            for _ in 0..<count {
                guard let member = reader.uint64() else { return nil }
                members.insert(member)
            }
            memberSets.append(members)
        }
        let confState = ConfState(voters: memberSets[0], learners: memberSets[1])
        return Snapshot(metadata: SnapshotMetadata(index: index, term: term, confState: confState), data: reader.rest())
    }
}

struct ByteReader {
    private let bytes: Bytes
    private var position = 0

    init(_ bytes: Bytes) { self.bytes = bytes }

    mutating func uint64() -> UInt64? {
        guard position + 8 <= bytes.count else { return nil }
        defer { position += 8 }
        return readBigEndian(bytes[position..<position + 8])
    }

    mutating func rest() -> Bytes { Array(bytes[position...]) }
}
