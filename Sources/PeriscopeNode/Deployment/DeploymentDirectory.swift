import Foundation
import PeriscopeAPI
import PeriscopeRPC

/// One region of a deployment as every node of the deployment knows it.
public struct DeploymentRegion: Codable, Sendable, Equatable {
    public var name: String
    /// 1 ... 99, unique in the deployment: the failover versions the region issues are
    /// congruent to it modulo `DeploymentDirectory.failoverVersionIncrement`.
    public var index: UInt32
    /// host:port of its nodes when the deployment was created: seeds, asked for the members now.
    public var addresses: [String]
}

/// The regions of the deployment this node's region belongs to, fixed when the deployment
/// is created (`periscope cluster init` with a topology of several regions). A node of a
/// region created alone belongs to a deployment of that one region.
public struct DeploymentDirectory: Sendable, Equatable {
    /// The deployment's id (every region's `cluster.json` has the same).
    public let id: String
    /// By index.
    public let regions: [DeploymentRegion]
    public let local: DeploymentRegion

    /// Failover versions advance in steps of this: Temporal's `failoverVersionIncrement`.
    public static let failoverVersionIncrement: Int64 = 100
    public static let regionsMax = 16

    init(id: String, regions: [DeploymentRegion], local name: String) {
        self.id = id
        self.regions = regions.sorted { $0.index < $1.index }
        local = regions.first { $0.name == name }!
    }

    /// More than one region: writes are kept in each shard's outbox for the others.
    public var isMultiRegion: Bool { regions.count > 1 }

    public var others: [DeploymentRegion] { regions.filter { $0.name != local.name } }

    public func region(named name: String) -> DeploymentRegion? { regions.first { $0.name == name } }

    public func region(index: UInt32) -> DeploymentRegion? { regions.first { $0.index == index } }

    /// The deployment's first region: namespaces are created there, so that two regions
    /// never create one name twice (Temporal's master cluster plays this part).
    public var primary: DeploymentRegion { regions[0] }

    public var names: [String] { regions.map(\.name) }

    /// The failover version region `index` issues when it becomes a namespace's home after
    /// `current`: the smallest above it congruent to `index`. Each region issues its own
    /// numbers, so two regions that both took over a namespace (a forced failover during a
    /// partition) still order their writes, the same way everywhere.
    public static func nextFailoverVersion(after current: Int64, for index: UInt32) -> Int64 {
        let increment = failoverVersionIncrement
        let base = current - ((current % increment) + increment) % increment
        let candidate = base + Int64(index)
        return candidate > current ? candidate : candidate + increment
    }

    /// The failover version an imported write carries (`AdminService.ImportWrites`): the
    /// source's order in the place of the failover number, issued by the home `index`, so it
    /// orders by the source's log and still names its issuer. Nil if `order` is too large.
    public static func importedFailoverVersion(order: Int64, issuer index: UInt32) -> Int64? {
        guard order >= 0 else { return nil }
        let (scaled, overflow) = order.multipliedReportingOverflow(by: failoverVersionIncrement)
        guard !overflow, scaled <= Int64.max - Int64(index) else { return nil }
        return scaled + Int64(index)
    }

    /// The region index that issued `failoverVersion` (0 for 0: the namespace's first home,
    /// before any failover).
    public static func issuer(of failoverVersion: Int64) -> UInt32 {
        UInt32(((failoverVersion % failoverVersionIncrement) + failoverVersionIncrement) % failoverVersionIncrement)
    }

    /// The regions a `BootstrapRequest` describes, or why they cannot be a deployment. Pure.
    static func regions(from wire: [Periscope_V1_DeploymentRegion], local: String) throws(RPCStatus) -> [DeploymentRegion] {
        guard wire.count <= regionsMax else {
            throw RPCStatus(.invalidArgument, "a deployment has at most \(regionsMax) regions; the request lists \(wire.count)")
        }
        var names: Set<String> = []
        var indexes: Set<UInt32> = []
        var regions: [DeploymentRegion] = []
        for region in wire {
            if let problem = RegionName.problem(with: region.name) { throw RPCStatus(.invalidArgument, problem) }
            guard names.insert(region.name).inserted else { throw RPCStatus(.invalidArgument, "region \(region.name) is listed twice") }
            guard (1..<UInt32(failoverVersionIncrement)).contains(region.index), indexes.insert(region.index).inserted else {
                throw RPCStatus(.invalidArgument, "region \(region.name): index \(region.index) is not a unique number in 1 ... 99")
            }
            guard !region.addresses.isEmpty, region.addresses.count <= 16 else {
                throw RPCStatus(.invalidArgument, "region \(region.name) lists \(region.addresses.count) addresses; 1 ... 16 are needed")
            }
            for address in region.addresses {
                do { _ = try RPCEndpoint(address) } catch { throw RPCStatus(.invalidArgument, "region \(region.name): \(error.message)") }
            }
            regions.append(DeploymentRegion(name: region.name, index: region.index, addresses: region.addresses))
        }
        guard regions.isEmpty || names.contains(local) else {
            throw RPCStatus(.invalidArgument, "the deployment's regions (\(names.sorted().joined(separator: ", "))) do not include "
                + "this node's region \(local)")
        }
        return regions
    }
}

/// Region names: 1 ... 64 letters, digits, '-' or '_'.
enum RegionName {
    static func problem(with name: String) -> String? {
        guard !name.isEmpty, name.utf8.count <= 64, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            return "region '\(name)' must be 1 ... 64 letters, digits, '-' or '_'"
        }
        return nil
    }
}
