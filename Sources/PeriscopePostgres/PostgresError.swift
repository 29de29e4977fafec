/// A failure libpq or the server reported: what was being done, the server's message, and
/// its SQLSTATE when the server sent one (nil for a failure on the client's side, such as a
/// refused connection).
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public var context: String
    public var message: String
    public var sqlState: String?

    public init(_ context: String, _ message: String, sqlState: String? = nil) {
        self.context = context
        self.message = message
        self.sqlState = sqlState
    }

    public var description: String { "\(context): \(message)" + (sqlState.map { " (SQLSTATE \($0))" } ?? "") }

    /// insufficient_privilege: the role lacks a permission (REPLICATION, SELECT, ...).
    public var isPermissionDenied: Bool { sqlState == "42501" }
    /// duplicate_object: a replication slot or publication of that name exists.
    public var isDuplicateObject: Bool { sqlState == "42710" }
    /// undefined_object: no replication slot or publication of that name.
    public var isUndefinedObject: Bool { sqlState == "42704" }
    /// undefined_table.
    public var isUndefinedTable: Bool { sqlState == "42P01" }
    /// object_in_use: a replication slot another connection is streaming from.
    public var isObjectInUse: Bool { sqlState == "55006" }
}
