import PeriscopeRaft

/// Raft's safety properties, checked as the simulation runs against everything any replica
/// ever persisted or applied. A violation is recorded with the tick it was seen at.
struct InvariantChecker {
    private struct Position: Hashable { var index: LogIndex, term: Term }
    private struct PersistedEntry { var dataDigest: UInt64, previousTerm: Term }
    struct AppliedEntry { var term: Term, dataDigest: UInt64, stateDigest: UInt64, proposal: UInt64? }

    private(set) var violations: [String] = []
    private var leaderOfTerm: [Term: NodeID] = [:]
    private var persisted: [Position: PersistedEntry] = [:]
    private(set) var applied: [LogIndex: AppliedEntry] = [:]
    /// The highest index any replica applied: committed for sure, so any later read must see it.
    private(set) var highestApplied: LogIndex = 1
    private(set) var elections = 0
    var now = 0

    private mutating func violation(_ text: String) { violations.append("tick \(now): \(text)") }

    /// Election safety: at most one leader per term.
    mutating func leaderElected(_ node: NodeID, term: Term, termAt: (LogIndex) -> Term?, lastIndex: LogIndex) {
        elections += 1
        if let other = leaderOfTerm[term], other != node {
            violation("election safety: nodes \(other) and \(node) both led term \(term)")
        }
        leaderOfTerm[term] = node
        // Leader completeness: the new leader holds every entry known committed.
        if highestApplied > lastIndex {
            violation("leader completeness: leader \(node) of term \(term) ends at \(lastIndex), entry \(highestApplied) is committed")
            return
        }
        for (index, entry) in applied {
            guard let term = termAt(index) else { continue }  // compacted: in its snapshot
            if term != entry.term {
                violation("leader completeness: leader \(node) has term \(term) at \(index), committed term is \(entry.term)")
            }
        }
    }

    /// Log matching: two logs with an entry of the same index and term hold the same entry
    /// there and agree on the term before it (and so, by induction, on everything before).
    mutating func entryPersisted(_ entry: Entry, previousTerm: Term, on node: NodeID) {
        let position = Position(index: entry.index, term: entry.term)
        let record = PersistedEntry(dataDigest: entryDataDigest(entry.data) ^ UInt64(entry.kind.rawValue), previousTerm: previousTerm)
        if let known = persisted[position] {
            if known.dataDigest != record.dataDigest || known.previousTerm != record.previousTerm {
                violation("log matching: node \(node) holds a different entry at \(entry.index)@\(entry.term)")
            }
        } else {
            persisted[position] = record
        }
    }

    /// State machine safety: every replica applies the same entry at each index, in order.
    mutating func entryApplied(_ entry: Entry, on node: NodeID, before: ReplicaStateMachine, after: ReplicaStateMachine) {
        if entry.index != before.appliedIndex + 1 {
            violation("apply order: node \(node) applied \(entry.index) after \(before.appliedIndex)")
        }
        let record = AppliedEntry(term: entry.term, dataDigest: entryDataDigest(entry.data), stateDigest: after.digest, proposal: proposalID(of: entry))
        if let known = applied[entry.index] {
            if known.term != record.term || known.dataDigest != record.dataDigest || known.stateDigest != record.stateDigest {
                violation("state machine safety: node \(node) applied \(entry) differently from an earlier replica")
            }
        } else {
            applied[entry.index] = record
        }
        highestApplied = max(highestApplied, entry.index)
    }

    mutating func snapshotInstalled(_ machine: ReplicaStateMachine, on node: NodeID) {
        if let known = applied[machine.appliedIndex], known.stateDigest != machine.digest {
            violation("state machine safety: node \(node) installed a snapshot at \(machine.appliedIndex) that differs from the applied state")
        }
    }

    /// Linearizable reads: a read index covers everything committed before the read began.
    mutating func readAnswered(on node: NodeID, index: LogIndex, floor: LogIndex) {
        if index < floor {
            violation("read index: node \(node) answered \(index) but \(floor) was committed before the read")
        }
    }

    /// No acknowledged proposal lost: it sits at the index it was acknowledged at.
    mutating func checkAcknowledged(_ acknowledged: [UInt64: LogIndex]) {
        for (proposal, index) in acknowledged.sorted(by: { $0.key < $1.key }) where applied[index]?.proposal != proposal {
            violation("durability: acknowledged proposal \(proposal) is no longer at index \(index)")
        }
    }

    mutating func fail(_ text: String) { violation(text) }
}
