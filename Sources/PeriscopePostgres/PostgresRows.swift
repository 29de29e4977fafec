/// A query's result in text format: column names and rows of optional strings (nil: NULL).
public struct PostgresRows: Sendable {
    public var columns: [String]
    public var rows: [[String?]]
    /// Rows an INSERT, UPDATE or DELETE changed (0 for other statements).
    public var affected: Int

    public init(columns: [String], rows: [[String?]], affected: Int) {
        self.columns = columns
        self.rows = rows
        self.affected = affected
    }

    /// The first row's first value: for `SELECT count(*)` and the like.
    public var scalar: String? { rows.first?.first ?? nil }

    /// The index of `name` among the columns.
    public func column(_ name: String) -> Int? { columns.firstIndex(of: name) }
}
