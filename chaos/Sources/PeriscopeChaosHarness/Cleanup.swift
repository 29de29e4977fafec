import Dispatch
import Foundation
import Synchronization

/// What must be undone however the harness ends: its nftables table, its tc qdisc, paused
/// and running nodes. Run once, on the normal exit path or from SIGINT/SIGTERM (then the
/// harness exits 130/143 after it).
final class Cleanup: Sendable {
    static let shared = Cleanup()
    private let actions: Mutex<[(String, @Sendable () -> Void)]> = Mutex([])
    /// Kept alive for the process's life; set once, from `installSignalHandlers`.
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    /// Registers `action` under `name` (a later registration under the same name replaces it).
    func register(_ name: String, _ action: @escaping @Sendable () -> Void) {
        actions.withLock { actions in
            actions.removeAll { $0.0 == name }
            actions.append((name, action))
        }
    }

    /// Runs every action, newest first, once.
    func runAll() {
        let pending = actions.withLock { actions in
            defer { actions = [] }
            return actions
        }
        for (_, action) in pending.reversed() { action() }
    }

    func installSignalHandlers() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                FileHandle.standardError.write(Data("\nchaos: signal \(signalNumber): healing the network, stopping the nodes\n".utf8))
                Cleanup.shared.runAll()
                exit(128 + signalNumber)
            }
            source.resume()
            Self.sources.append(source)
        }
    }
}
