/// Wing & Gong's linearizability search with Lowe's memoization, over one key's operations.
///
/// The history is a doubly linked list of call and return entries in time order. The search
/// walks it: at a call it tries to linearize that operation now (lifting its call and return
/// out of the list), at a return it has failed to place that operation before its deadline
/// and backtracks. A memo of (set of linearized operations, model state) prunes every
/// configuration already explored, which is what makes the search practical; its size is
/// the bound on the work.
struct LinearizabilitySearch {
    enum Verdict {
        case linearizable
        case violation(Failure)
        /// The memo outgrew its bound after this many states.
        case inconclusive(states: Int)
    }

    /// Where the longest linearizable prefix got stuck.
    struct Failure {
        /// The operation whose deadline came before it could be placed.
        var blocked: Int
        /// How many operations the prefix linearized, and the last few of them, oldest first.
        var depth: Int
        var lastLinearized: [Int]
        var state: StoredVersion?
    }

    private let operations: [RegisterOperation]
    private let maxStates: Int
    /// Entry 0 is the list's head; operation i has call entry 2i+1 and return entry 2i+2.
    private var next: [Int]
    private var previous: [Int]

    init(_ operations: [RegisterOperation], maxStates: Int) {
        self.operations = operations
        self.maxStates = maxStates
        let count = operations.count * 2 + 1
        next = Array(repeating: -1, count: count)
        previous = Array(repeating: -1, count: count)
        // Calls before returns at one instant: operations that touch are concurrent.
        let order = (1..<count).sorted { a, b in
            let (ta, tb) = (Self.time(of: a, operations), Self.time(of: b, operations))
            if ta != tb { return ta < tb }
            if (a & 1) != (b & 1) { return (a & 1) == 1 }
            return a < b
        }
        var last = 0
        for entry in order {
            next[last] = entry
            previous[entry] = last
            last = entry
        }
    }

    private static func time(of entry: Int, _ operations: [RegisterOperation]) -> Int64 {
        let operation = operations[(entry - 1) / 2]
        return entry & 1 == 1 ? operation.call : operation.ret
    }

    mutating func run() -> Verdict {
        var visited = VisitedStates(operationCount: operations.count)
        var linearized = [UInt64](repeating: 0, count: (operations.count + 63) / 64)
        var linearizedHash: UInt64 = 0
        var state: StoredVersion?
        var stack: [(entry: Int, state: StoredVersion?)] = []
        var deepest: Failure?
        var entry = next[0]
        while next[0] != -1 {
            if entry & 1 == 1 {
                let index = (entry - 1) / 2
                let (ok, after) = operations[index].step(state)
                if ok {
                    linearized[index / 64] |= 1 << UInt64(index % 64)
                    let hash = linearizedHash ^ Self.operationHash(index)
                    if visited.insert(linearized, state: after, linearizedHash: hash) {
                        if visited.count > maxStates { return .inconclusive(states: visited.count) }
                        stack.append((entry, state))
                        state = after
                        linearizedHash = hash
                        lift(entry)
                        entry = next[0]
                        continue
                    }
                    linearized[index / 64] &= ~(1 << UInt64(index % 64))
                }
                entry = next[entry]
            } else {
                if stack.count > (deepest?.depth ?? -1) {
                    deepest = Failure(blocked: (entry - 2) / 2, depth: stack.count,
                                      lastLinearized: stack.suffix(3).map { ($0.entry - 1) / 2 }, state: state)
                }
                guard let top = stack.popLast() else { return .violation(deepest!) }
                let index = (top.entry - 1) / 2
                linearized[index / 64] &= ~(1 << UInt64(index % 64))
                linearizedHash ^= Self.operationHash(index)
                state = top.state
                unlift(top.entry)
                entry = next[top.entry]
            }
        }
        return .linearizable
    }

    /// Removes an operation's call and return from the list; `unlift` undoes it exactly, in
    /// reverse, because the removed entries keep their own links.
    private mutating func lift(_ call: Int) {
        remove(call)
        remove(call + 1)
    }

    private mutating func unlift(_ call: Int) {
        restore(call + 1)
        restore(call)
    }

    private mutating func remove(_ entry: Int) {
        next[previous[entry]] = next[entry]
        if next[entry] != -1 { previous[next[entry]] = previous[entry] }
    }

    private mutating func restore(_ entry: Int) {
        next[previous[entry]] = entry
        if next[entry] != -1 { previous[next[entry]] = entry }
    }

    /// A random-looking word per operation: the XOR of those linearized hashes the set
    /// incrementally, so the memo never rehashes a whole bitset.
    static func operationHash(_ index: Int) -> UInt64 {
        mix(UInt64(index) &+ 0x9E37_79B9_7F4A_7C15)
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
