import PeriscopeModel
import PeriscopeStorage

/// What one sweep step did.
public struct SweepProgress: Sendable, Equatable {
    /// Locator entries read and deleted in this step.
    public var locatorsRead: Int
    public var locatorsDeleted: Int
    /// Whether this step reached the last locator (the next step starts from the first).
    public var finishedPass: Bool
}

/// Where the locator sweep stands. A pass reads every locator once; another pass is only
/// worth its reads when something could have expired since the last complete one.
struct LocatorSweep {
    /// Where the next step starts; nil between passes.
    var cursor: [UInt8]?
    /// The horizons the current pass started with, and whether it kept an expired entry
    /// for the indexer (which a later pass must come back for).
    var passHorizons: [String: Int64] = [:]
    var passKeptSome = false
    /// The horizons of the last complete pass that left nothing behind; nil when another
    /// pass is due (never run, something kept, or apply wrote an already-expired entry).
    var cleanThrough: [String: Int64]?
}

extension Shard {
    /// Deletes, in one bounded step, the locator entries of executions retention has
    /// dropped. Retention drops records and index partitions by range, but the locator is
    /// keyed by execution, not by time, so its expired entries (live records and tombstones
    /// alike) can only go one by one: without this sweep the locator would grow with every
    /// execution ever written.
    ///
    /// An entry goes only when its partition is at or before its namespace's horizon **and**
    /// its last change is at or below the index watermark: the indexer may still walk the
    /// change chain of anything above. Expired entries already read as absent everywhere, so
    /// deleting them changes no answer. The step holds the apply lock (apply cannot rewrite
    /// an entry between this read and this delete), so `chunk` bounds how long apply waits.
    /// Each step continues where the last one stopped; a restart starts a new pass. A new
    /// pass starts only when retention has dropped more since the last clean one, or that
    /// pass kept entries for the indexer, or apply wrote an entry that was expired already
    /// (a late close into a dropped day); otherwise a step reads nothing, so an idle
    /// indexer may call it as often as it likes.
    @discardableResult
    public func sweepExpiredLocators(chunk: Int = 10_000) throws -> SweepProgress {
        precondition(chunk > 0, "a sweep step reads at least one locator")
        return try applyState.withLock { state in
            var progress = SweepProgress(locatorsRead: 0, locatorsDeleted: 0, finishedPass: true)
            guard !state.horizons.isEmpty else { return progress }
            if state.sweep.cursor == nil {
                guard state.sweep.cleanThrough != state.horizons else { return progress }
                state.sweep.passHorizons = state.horizons
                state.sweep.passKeptSome = false
            }
            let watermark = indexProgress.current
            let batch = WriteBatch()
            var last: [UInt8]?
            try database.scan(in: family(.locator), range: KeyRange(from: state.sweep.cursor)) { entries in
                for entry in entries.prefix(chunk) {
                    progress.locatorsRead += 1
                    last = Array(entry.key)
                    let key = try Self.executionKey(fromLocator: Array(entry.key))
                    let recorded = try ExecutionState.decode(Array(entry.value))
                    guard recorded.isExpired(horizon: state.horizons[key.namespaceId]) else { continue }
                    if recorded.lastChange <= watermark {
                        try batch.delete(Array(entry.key), in: family(.locator))
                        progress.locatorsDeleted += 1
                    } else {
                        state.sweep.passKeptSome = true
                    }
                }
            }
            if progress.locatorsDeleted > 0 { try database.write(batch, options: .buffered) }
            progress.finishedPass = progress.locatorsRead < chunk
            if progress.finishedPass {
                state.sweep.cursor = nil
                state.sweep.cleanThrough = state.sweep.passKeptSome ? nil : state.sweep.passHorizons
            } else {
                // The next step starts just after the last key read: the key with a zero byte appended.
                state.sweep.cursor = last.map { $0 + [0] }
            }
            return progress
        }
    }
}
