import Foundation
import Synchronization

/// The run's `periscope node start` processes, one per topology node, each on its own
/// address with its data and log under the run's directory. Kill -9, restart, SIGSTOP and
/// SIGCONT act on them; `stopAll` kills every one that is left, paused ones included.
final class NodeProcesses: Sendable {
    let binary: String
    let directory: String
    let topology: Topology
    /// Extra `node start` options for every node (from --node-args).
    let extraArguments: [String]
    /// When set, each node's data directory is a tmpfs of this many MiB of its own (the
    /// disk-full nemesis fills one), mounted before its first start.
    let tmpfsMegabytes: Int?
    /// When set, every node's wall clock is offset by the seconds in a file of its own
    /// (`--unsafe-clock-offset-file`, reread every second), which the clock-skew nemesis writes.
    let skewableClocks: Bool
    private let mounted: Mutex<Set<Int>> = Mutex([])
    private let running: Mutex<[Int: Process]> = Mutex([:])
    private let paused: Mutex<Set<Int>> = Mutex([])

    init(binary: String, directory: String, topology: Topology, extraArguments: [String], tmpfsMegabytes: Int? = nil,
         skewableClocks: Bool = false) {
        self.binary = binary
        self.directory = directory
        self.topology = topology
        self.extraArguments = extraArguments
        self.tmpfsMegabytes = tmpfsMegabytes
        self.skewableClocks = skewableClocks
    }

    func homeDirectory(_ index: Int) -> String { directory + "/" + topology.nodes[index].name }
    func dataDirectory(_ index: Int) -> String { homeDirectory(index) + "/data" }
    func logPath(_ index: Int) -> String { homeDirectory(index) + "/node.log" }
    private func clockOffsetPath(_ index: Int) -> String { homeDirectory(index) + "/clock-offset" }

    /// Sets node `index`'s wall clock `seconds` off the real one (0: back to the real clock);
    /// it takes effect within a second, without a restart.
    func setClockOffset(_ index: Int, seconds: Int) throws {
        guard skewableClocks else { throw HarnessError("the nodes were started without --unsafe-clock-offset-file") }
        // Written whole, then renamed: the node must never read half a line.
        let temporary = clockOffsetPath(index) + ".new"
        try Data("\(seconds < 0 ? "-" : "+")\(seconds.magnitude)\n".utf8).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, clockOffsetPath(index)) == 0 else { throw HarnessError("rename \(temporary): errno \(errno)") }
    }

    /// Starts node `index` (`--wait-for-init`: the first start waits for the region's init).
    func start(_ index: Int) throws {
        let node = topology.nodes[index]
        let home = homeDirectory(index)
        try FileManager.default.createDirectory(atPath: home + "/data", withIntermediateDirectories: true)
        if let megabytes = tmpfsMegabytes, mounted.withLock({ $0.insert(index).inserted }) {
            try Shell.run("mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "periscope-chaos-\(node.name)", home + "/data"])
        }
        if !FileManager.default.fileExists(atPath: logPath(index)) {
            _ = FileManager.default.createFile(atPath: logPath(index), contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath(index)))
        log.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["node", "start", "--wait-for-init", "--node-id", "\(node.id)", "--host", node.host,
                             "--port", "\(node.port)", "--data", home + "/data", "--log-level", "notice"]
            + ["--region", topology.regions[node.region].name] + extraArguments
        if skewableClocks {
            if !FileManager.default.fileExists(atPath: clockOffsetPath(index)) { try setClockOffset(index, seconds: 0) }
            process.arguments! += ["--unsafe-clock-offset-file", clockOffsetPath(index)]
        }
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try? log.close()
        running.withLock { $0[index] = process }
    }

    func isRunning(_ index: Int) -> Bool { running.withLock { $0[index] != nil } }

    /// SIGKILL, waited for.
    func kill(_ index: Int) {
        guard let process = running.withLock({ $0.removeValue(forKey: index) }) else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        paused.withLock { _ = $0.remove(index) }
    }

    func pause(_ index: Int) {
        guard let process = running.withLock({ $0[index] }) else { return }
        Foundation.kill(process.processIdentifier, SIGSTOP)
        paused.withLock { _ = $0.insert(index) }
    }

    func resume(_ index: Int) {
        guard let process = running.withLock({ $0[index] }) else { return }
        Foundation.kill(process.processIdentifier, SIGCONT)
        paused.withLock { _ = $0.remove(index) }
    }

    /// Nodes that exited on their own (a crash): index and status. A node killed by the
    /// harness is not listed (it was removed from `running` first).
    func crashed() -> [(Int, Int32)] {
        running.withLock { running in
            running.filter { !$0.value.isRunning }.map { ($0.key, $0.value.terminationStatus) }.sorted { $0.0 < $1.0 }
        }
    }

    /// SIGCONT to paused nodes, then SIGKILL to every node: from the exit path and the
    /// signal handler, so it must not wait on anything but the processes. Then the tmpfs
    /// data directories are unmounted (their data is gone with them).
    func stopAll() {
        for index in paused.withLock({ Array($0) }) { resume(index) }
        for index in running.withLock({ Array($0.keys) }) { kill(index) }
        for index in mounted.withLock({ all in defer { all = [] }; return all }) {
            _ = try? Shell.run("umount", ["-l", dataDirectory(index)])
        }
    }

    /// Fills node `index`'s tmpfs with a ballast file (the disk-full nemesis).
    /// The node keeps writing between the free-space read and the allocation, so an
    /// allocation of all of it can find a little less: then a MiB less, then 16 (the node
    /// fills that itself, far below its floor).
    func fillDisk(_ index: Int) throws {
        var stats = statvfs()
        guard statvfs(dataDirectory(index), &stats) == 0 else { throw HarnessError("statvfs \(dataDirectory(index)): errno \(errno)") }
        let free = UInt64(stats.f_bavail) * UInt64(stats.f_frsize)
        var failure: (any Error)?
        for slack: UInt64 in [0, 1 << 20, 16 << 20] where free > slack {
            do {
                try Shell.run("fallocate", ["-l", "\(free - slack)", ballastPath(index)])
                return
            } catch {
                failure = error
                try? FileManager.default.removeItem(atPath: ballastPath(index))
            }
        }
        if let failure { throw failure }
    }

    func emptyDisk(_ index: Int) throws {
        if FileManager.default.fileExists(atPath: ballastPath(index)) { try FileManager.default.removeItem(atPath: ballastPath(index)) }
    }

    private func ballastPath(_ index: Int) -> String { dataDirectory(index) + "/chaos-ballast" }
}
