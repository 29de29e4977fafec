import NIOCore
import Synchronization

/// When a connection last read anything from its peer, readable from any thread. A peer
/// whose process is stopped (SIGSTOP) keeps its socket open, and its kernel even accepts new
/// connections, but it reads and answers nothing: this tells a live peer from one that only
/// looks connected. With keepalive PINGs on, a live peer is heard at least once per interval.
public final class PeerActivity: Sendable {
    private let lastReadUptimeNanoseconds = Atomic<UInt64>(NIODeadline.now().uptimeNanoseconds)

    public init() {}

    func recordRead() { lastReadUptimeNanoseconds.store(NIODeadline.now().uptimeNanoseconds, ordering: .relaxed) }

    /// Whether the peer sent anything within `interval` (the connection's opening counts).
    public func heard(within interval: Duration) -> Bool {
        let since = NIODeadline.now().uptimeNanoseconds &- lastReadUptimeNanoseconds.load(ordering: .relaxed)
        return Duration.nanoseconds(Int64(clamping: since)) < interval
    }
}
