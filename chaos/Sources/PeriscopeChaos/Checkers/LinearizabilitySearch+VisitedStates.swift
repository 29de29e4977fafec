/// The search's memo: a set of (linearized bitset, model state), stored flat (one run of
/// words per entry, open addressing over entry indexes) because it holds up to millions of
/// entries per key and a set of arrays would cost an allocation each.
struct VisitedStates {
    private let bitsetWords: Int
    private var words: [UInt64] = []
    private var hashes: [UInt64] = []
    /// Entry index + 1 per slot; 0 is empty.
    private var slots: [Int32]
    private(set) var count = 0

    init(operationCount: Int) {
        bitsetWords = (operationCount + 63) / 64
        slots = Array(repeating: 0, count: 1024)
    }

    /// Inserts the configuration; false if it was already there.
    mutating func insert(_ linearized: [UInt64], state: StoredVersion?, linearizedHash: UInt64) -> Bool {
        let stateWords = Self.encode(state)
        let hash = LinearizabilitySearch.mix(linearizedHash ^ LinearizabilitySearch.mix(stateWords.0 ^ (stateWords.1 << 62)))
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 {
            let entry = Int(slots[slot]) - 1
            if hashes[entry] == hash && matches(entry, linearized, stateWords) { return false }
            slot = (slot + 1) & mask
        }
        slots[slot] = Int32(count + 1)
        hashes.append(hash)
        words.append(contentsOf: linearized)
        words.append(stateWords.0)
        words.append(stateWords.1)
        count += 1
        if count * 2 > slots.count { grow() }
        return true
    }

    private func matches(_ entry: Int, _ linearized: [UInt64], _ state: (UInt64, UInt64)) -> Bool {
        let base = entry * (bitsetWords + 2)
        for word in 0..<bitsetWords where words[base + word] != linearized[word] { return false }
        return words[base + bitsetWords] == state.0 && words[base + bitsetWords + 1] == state.1
    }

    private mutating func grow() {
        slots = Array(repeating: 0, count: slots.count * 2)
        let mask = slots.count - 1
        for entry in 0..<count {
            var slot = Int(truncatingIfNeeded: hashes[entry]) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(entry + 1)
        }
    }

    /// Nothing, live or tombstone, and the version.
    private static func encode(_ state: StoredVersion?) -> (UInt64, UInt64) {
        guard let state else { return (0, 0) }
        return (UInt64(bitPattern: state.version), state.live ? 1 : 2)
    }
}
