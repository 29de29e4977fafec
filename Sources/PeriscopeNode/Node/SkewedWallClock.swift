import Foundation
import PeriscopeModel
import Synchronization

/// A fault for chaos runs: the node's wall clock (`NodeConfiguration.wallClock`: retention
/// horizons, delete tombstones, origin times) read as the real clock plus the signed seconds
/// in a file ("+345600", "-90"), reread at most once a second so the offset can change under
/// a running node. Monotonic time (timers, Raft ticks) is not touched.
///
/// Why not libfaketime: preloaded into a Swift binary (Debian's 0.9.10), it leaves
/// `CommandLine.arguments` empty, so the node cannot even parse `node start`.
public final class SkewedWallClock: Sendable {
    public let path: String
    private let state = Mutex<(offsetNanoseconds: Int64, readAt: ContinuousClock.Instant?)>((0, nil))

    public init(path: String) throws {
        self.path = path
        _ = try Self.read(path)  // a missing or malformed file is refused at start
    }

    public func now() -> Timestamp {
        let offset = state.withLock { state in
            let now = ContinuousClock.now
            if state.readAt.map({ now - $0 >= .seconds(1) }) ?? true {
                // A file being replaced mid-read keeps the last offset until the next second.
                if let seconds = try? Self.read(path) { state.offsetNanoseconds = seconds * 1_000_000_000 }
                state.readAt = now
            }
            return state.offsetNanoseconds
        }
        return Timestamp(nanosecondsSinceEpoch: Timestamp.now.nanosecondsSinceEpoch + offset)
    }

    /// The file's offset in seconds.
    static func read(_ path: String) throws -> Int64 {
        let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let seconds = Int64(text.hasPrefix("+") ? String(text.dropFirst()) : text), seconds.magnitude <= 10 * 365 * 86_400 else {
            throw SkewedWallClockError(description: "\(path): '\(text)' is not a clock offset in seconds within ten years (like +90 or -345600)")
        }
        return seconds
    }
}

public struct SkewedWallClockError: Error, CustomStringConvertible {
    public let description: String
}
