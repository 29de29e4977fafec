/// One piece of the backfill: a namespace's rows with `run_id` in [`from`, `to`) (nil: no
/// bound), copied whole or not at all as far as the checkpoint goes: a chunk recorded done is
/// never copied again, one cut short by a crash is copied again from its start (its writes
/// are copies, which change nothing the second time).
public struct BackfillChunk: Codable, Sendable, Equatable {
    public var id: Int
    public var namespaceId: String
    public var from: String?
    public var to: String?
    public var done = false
    public var rows = 0

    public init(id: Int, namespaceId: String, from: String?, to: String?) {
        self.id = id
        self.namespaceId = namespaceId
        self.from = from
        self.to = to
    }

    /// Chunks covering each namespace's whole key range: `boundaries` are run ids in
    /// increasing order, each the first of a chunk but the first chunk.
    public static func plan(_ namespaces: [(namespaceId: String, boundaries: [String])]) -> [BackfillChunk] {
        var chunks: [BackfillChunk] = []
        for (namespaceId, boundaries) in namespaces {
            let edges: [String?] = [nil] + boundaries.map { Optional($0) } + [nil]
            for index in 0..<(edges.count - 1) {
                chunks.append(BackfillChunk(id: chunks.count, namespaceId: namespaceId, from: edges[index], to: edges[index + 1]))
            }
        }
        return chunks
    }

    /// The rows of this chunk, as a SQL condition; `literal` quotes a value for SQL.
    public func condition(_ literal: (String) -> String) -> String {
        var parts = ["namespace_id = \(literal(namespaceId))"]
        if let from { parts.append("run_id >= \(literal(from))") }
        if let to { parts.append("run_id < \(literal(to))") }
        return parts.joined(separator: " AND ")
    }
}
