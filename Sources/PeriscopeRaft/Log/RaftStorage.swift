/// Why a log read could not be answered from storage.
public enum LogReadError: Error, Sendable, Hashable {
    /// The entry was folded into a snapshot and removed.
    case compacted
    /// The entry is beyond the end of the log.
    case unavailable
}

/// The persisted part of one replica's log, as the core reads it. The caller writes it (after
/// each `Ready`); the core only reads. Implementations answer from memory: the core must
/// never wait on a disk.
public protocol RaftStorage: AnyObject {
    /// The hard state and membership the replica restarts with.
    func initialState() -> (HardState, ConfState)
    /// Entries in `[low, high)`, cut at `bytesMax` (at least one entry).
    func entries(from low: LogIndex, to high: LogIndex, bytesMax: Int) throws(LogReadError) -> [Entry]
    /// The term of the entry at `index`; the snapshot's index answers with the snapshot's term.
    func term(at index: LogIndex) throws(LogReadError) -> Term
    /// The first index still held as an entry (the snapshot's index + 1).
    var firstIndex: LogIndex { get }
    var lastIndex: LogIndex { get }
    /// The latest snapshot, sent to followers that need compacted entries.
    var snapshot: Snapshot { get }
}
