import PeriscopeRaft
import PeriscopeRaftLog
import PeriscopeStorage

/// The simulated application: it folds every applied entry into a running digest, so two
/// replicas agree on their whole applied history exactly when their digests agree.
struct ReplicaStateMachine: Equatable {
    var appliedIndex: LogIndex
    var digest: UInt64

    static let genesis = ReplicaStateMachine(appliedIndex: 1, digest: 0)

    mutating func apply(_ entry: Entry) {
        appliedIndex = entry.index
        digest = mix(digest ^ mix(entry.index) ^ mix(entry.term &* 31) ^ entryDataDigest(entry.data))
    }

    /// Sixteen bytes: the applied index and the digest, big-endian.
    func encoded() -> [UInt8] { bigEndian(appliedIndex) + bigEndian(digest) }

    init(appliedIndex: LogIndex, digest: UInt64) {
        self.appliedIndex = appliedIndex
        self.digest = digest
    }

    init?(decoding bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.init(appliedIndex: readBigEndian(bytes[0..<8]), digest: readBigEndian(bytes[8..<16]))
    }
}

/// FNV-1a over the bytes, finished with a mix so nearby inputs spread.
func entryDataDigest(_ data: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in data { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    return mix(hash)
}

func mix(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// A client proposal's payload: its id, then filler so sizes vary.
func proposalPayload(id: UInt64, fillerBytes: Int) -> [UInt8] {
    bigEndian(id) + [UInt8](repeating: UInt8(truncatingIfNeeded: id), count: fillerBytes)
}

func proposalID(of entry: Entry) -> UInt64? {
    guard entry.kind == .normal, entry.data.count >= 8 else { return nil }
    return readBigEndian(entry.data[0..<8])
}
