import PeriscopeModel
import PeriscopeQuery

/// How a query (or part of its filter) reads the indexes. Every path yields positions in the
/// default listing order.
indirect enum AccessPath: Sendable {
    /// Every execution of the query's partitions: the time index.
    case scan
    case empty
    /// One term's postings in the inverted index, partition by partition.
    case term(field: String, type: SearchAttributeType, value: TupleElement)
    /// Positions read in another order (value ranges, prefixes, presence, point lookups)
    /// and sorted in memory; bounded by `PlannerLimits.materializedMax`.
    case positions(String, [Position])
    case intersect([AccessPath])
    case union([AccessPath])
    case difference(AccessPath, minus: AccessPath)

    /// A plan for people: one line per node, indented.
    func explain(indent: String = "") -> String {
        switch self {
        case .scan: return indent + "scan time index"
        case .empty: return indent + "empty"
        case .term(let field, let type, let value): return indent + "terms \(field):\(type) = \(value)"
        case .positions(let what, let positions): return indent + "\(what) (\(positions.count) positions)"
        case .intersect(let paths):
            return ([indent + "intersect"] + paths.map { $0.explain(indent: indent + "  ") }).joined(separator: "\n")
        case .union(let paths):
            return ([indent + "union"] + paths.map { $0.explain(indent: indent + "  ") }).joined(separator: "\n")
        case .difference(let base, let excluded):
            return [indent + "difference", base.explain(indent: indent + "  "), indent + "  minus",
                    excluded.explain(indent: indent + "    ")].joined(separator: "\n")
        }
    }
}

/// A planned filter: its path, whether the path alone decides the filter (no record needs
/// checking: counts can be answered from the index), and an estimate of positions it yields
/// (nil until needed: term postings are probed only to order an intersection).
struct PlannedPath {
    var path: AccessPath
    var exact: Bool
    var estimate: Int?

    static let scanEstimate = Int.max / 4
}

/// Bounds on planning work.
public struct PlannerLimits: Sendable, Equatable {
    /// Positions a materialized path (a value range, a prefix, a presence set) may hold;
    /// a larger one is dropped and its condition checked on records instead.
    public var materializedMax: Int
    /// Postings counted to estimate a term's size.
    public var probeMax: Int
    /// Executions sharing one value that ORDER BY in index order may gather to order their
    /// ties; more is refused as too expensive.
    public var tieGroupMax: Int
    /// ORDER BY reads a filter's candidates and sorts them (top-K) when the filter's path
    /// is estimated below this; otherwise it walks the sort attribute's index.
    public var topKMax: Int
    /// Index paths the planner may not use (tests force every alternative plan this way).
    public var disabled: Set<DisabledPath>

    public enum DisabledPath: Sendable, Hashable, CaseIterable {
        case terms, values, lookup, presence, everyIndex
        /// ORDER BY served in an attribute's index order (top-K instead).
        case indexOrder
    }

    public init(materializedMax: Int = 50_000, probeMax: Int = 10_000, tieGroupMax: Int = 50_000, topKMax: Int = 5_000,
                disabled: Set<DisabledPath> = []) {
        self.materializedMax = materializedMax
        self.probeMax = probeMax
        self.tieGroupMax = tieGroupMax
        self.topKMax = topKMax
        self.disabled = disabled
    }
}
