/// The bounds every query is checked against, so no input can make parsing, planning or
/// counting unbounded.
public struct QueryLimits: Sendable, Hashable {
    /// Bytes of query text.
    public var queryBytesMax: Int
    /// Parentheses, NOT and signs nested in each other (Temporal's parser: 200).
    public var nestingMax: Int
    /// Depth of the expression tree, where `a AND b AND c` is two levels (Temporal's parser: 1,000).
    public var treeDepthMax: Int
    /// Distinct groups a GROUP BY count may return before it is refused.
    public var groupsMax: Int

    public init(queryBytesMax: Int = 64 << 10, nestingMax: Int = 200, treeDepthMax: Int = 1_000, groupsMax: Int = 1_000) {
        self.queryBytesMax = queryBytesMax
        self.nestingMax = nestingMax
        self.treeDepthMax = treeDepthMax
        self.groupsMax = groupsMax
    }
}
