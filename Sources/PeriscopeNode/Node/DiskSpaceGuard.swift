import Foundation
import Synchronization

/// Keeps a node from running its disk out of space. RocksDB does not survive that: Debian's
/// build aborts on the write after a failed one (`WritableFileWriter::
/// AssertFalseAndGetStatusForPrevError`), which the chaos harness's disk-full nemesis showed.
/// So the node stops well before: below `floorBytes` of free space it is *low*. A low node
/// refuses proposals (writes, namespace and membership changes) with a clear error, hands
/// its leaderships to other members, and drops the log appends other leaders send it (as a
/// lossy link would: it falls behind and catches up later), while the entries it already
/// has keep applying. It also deletes its reserve file, a `reserveBytes` block it took at
/// start (as CockroachDB's ballast), so what is in flight has room to finish. It is no
/// longer low once `floorBytes + reserveBytes` are free, and takes its reserve back.
///
/// The policy is a pure function (`DiskSpacePolicy`); `check()` applies it to `statvfs`.
public final class DiskSpaceGuard: Sendable {
    public let directory: String
    public let policy: DiskSpacePolicy
    let nodeID: UInt64
    private let low = Atomic<Bool>(false)
    private let available = Atomic<UInt64>(0)
    private let reserveHeld = Atomic<Bool>(false)

    var reservePath: String { directory + "/space-reserve" }

    public init(directory: String, nodeID: UInt64, policy: DiskSpacePolicy) {
        self.directory = directory
        self.nodeID = nodeID
        self.policy = policy
    }

    public var isLow: Bool { low.load(ordering: .relaxed) }
    public var availableBytes: UInt64 { available.load(ordering: .relaxed) }
    public var holdsReserve: Bool { reserveHeld.load(ordering: .relaxed) }

    /// Why a proposal is refused now, if it is.
    func refusal() -> ReplicationError? {
        guard isLow else { return nil }
        return .diskLow("node \(nodeID) has \(Self.megabytes(availableBytes)) free under \(directory), below its floor of "
            + "\(Self.megabytes(policy.floorBytes)): it takes no writes and leads no shard until "
            + "\(Self.megabytes(policy.floorBytes + policy.reserveBytes)) are free; retry (another member will lead)")
    }

    /// Reads the free space, applies the policy (taking or releasing the reserve file), and
    /// returns the state change, if any.
    @discardableResult
    public func check() throws -> DiskSpacePolicy.Change? {
        var free = try Self.freeBytes(directory)
        let held = holdsReserve || FileManager.default.fileExists(atPath: reservePath)
        let decision = policy.decide(freeBytes: free, reserveHeld: held, wasLow: isLow)
        if decision.releaseReserve {
            try? FileManager.default.removeItem(atPath: reservePath)
            reserveHeld.store(false, ordering: .relaxed)
            free = (try? Self.freeBytes(directory)) ?? free
        } else if decision.takeReserve {
            reserveHeld.store(Self.allocate(reservePath, bytes: policy.reserveBytes), ordering: .relaxed)
            free = (try? Self.freeBytes(directory)) ?? free
        } else {
            reserveHeld.store(held, ordering: .relaxed)
        }
        available.store(free, ordering: .relaxed)
        let wasLow = low.exchange(decision.low, ordering: .relaxed)
        if wasLow == decision.low { return nil }
        return decision.low ? .becameLow : .recovered
    }

    /// The bytes an unprivileged process may still write on `path`'s filesystem.
    public static func freeBytes(_ path: String) throws -> UInt64 {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { throw DiskSpaceError("statvfs \(path): errno \(errno)") }
        return UInt64(stats.f_bavail) * UInt64(stats.f_frsize)
    }

    /// Creates `path` with `bytes` really allocated (posix_fallocate); false if it could not.
    static func allocate(_ path: String, bytes: UInt64) -> Bool {
        let fd = open(path, O_CREAT | O_WRONLY, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard posix_fallocate(fd, 0, off_t(bytes)) == 0 else {
            unlink(path)
            return false
        }
        return true
    }

    static func megabytes(_ bytes: UInt64) -> String { "\(bytes / 1_048_576) MiB" }
}

/// When a node is low on disk, and what it does with its reserve file. Pure.
public struct DiskSpacePolicy: Sendable, Equatable {
    /// Below this much free space the node is low.
    public var floorBytes: UInt64
    /// The reserve file's size: released when low, taken back on recovery.
    public var reserveBytes: UInt64

    public init(floorBytes: UInt64, reserveBytes: UInt64) {
        self.floorBytes = floorBytes
        self.reserveBytes = reserveBytes
    }

    public enum Change: Sendable, Equatable { case becameLow, recovered }

    public struct Decision: Sendable, Equatable {
        public var low: Bool
        public var releaseReserve: Bool
        public var takeReserve: Bool
    }

    /// Low below the floor; recovered only with room for the floor and the reserve (so
    /// taking the reserve back does not make it low again at once).
    public func decide(freeBytes: UInt64, reserveHeld: Bool, wasLow: Bool) -> Decision {
        let low = wasLow ? freeBytes < floorBytes + reserveBytes : freeBytes < floorBytes
        return Decision(low: low, releaseReserve: low && reserveHeld,
                        takeReserve: !low && !reserveHeld && reserveBytes > 0 && freeBytes >= floorBytes + reserveBytes)
    }
}

struct DiskSpaceError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
