@testable import PeriscopeChaos

/// Short constructors for hand-written histories; times in milliseconds since the run's start.
enum H {
    static func ns(_ milliseconds: Double) -> Int64 { Int64(milliseconds * 1_000_000) }

    static func write(_ kind: HistoryOperation.Kind, _ key: String, _ version: Int64, _ outcome: HistoryOperation.Outcome = .ok,
                      client: Int = 0, at: Double = 0, to: Double? = 1, applied: Bool? = nil) -> HistoryOperation {
        var operation = HistoryOperation(client: client, kind: kind, key: key, version: version, invokedNanoseconds: ns(at),
                                         completedNanoseconds: to.map(ns), outcome: outcome)
        operation.applied = applied
        return operation
    }

    static func read(_ key: String, _ observed: Int64?, _ consistency: HistoryOperation.Consistency = .strong,
                     _ outcome: HistoryOperation.Outcome = .ok, client: Int = 1, at: Double, to: Double,
                     required: Int64? = nil) -> HistoryOperation {
        var operation = HistoryOperation(client: client, kind: .read, key: key, version: observed, invokedNanoseconds: ns(at),
                                         completedNanoseconds: ns(to), outcome: outcome)
        operation.consistency = consistency
        operation.requiredVersion = required
        return operation
    }

    static func scan(_ keys: [String], client: Int = 2, at: Double, to: Double, pointInTimeLost: Bool? = nil) -> HistoryOperation {
        var operation = HistoryOperation(client: client, kind: .scan, invokedNanoseconds: ns(at), completedNanoseconds: ns(to), outcome: .ok)
        operation.scanKeys = keys
        operation.consistency = .strong
        operation.pointInTimeLost = pointInTimeLost
        return operation
    }
}
