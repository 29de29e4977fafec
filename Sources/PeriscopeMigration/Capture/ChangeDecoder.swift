/// A change of Temporal's table as the capture applies it: the row's new state (or its
/// deletion), at its position in the source's WAL, which orders it against every other
/// change of the same execution (PostgreSQL serializes writers of one key).
public struct CapturedChange: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// An insert or update: the whole new row.
        case upsert(TemporalRow.Values)
        /// An update whose new row left large values out (unchanged TOAST): the capture reads
        /// the row's current state from the source instead.
        case refetch(namespaceId: String, runId: String)
        case delete(namespaceId: String, runId: String)
    }

    public var kind: Kind
    /// The change's own WAL position: the migrated write's failover version.
    public var position: LSN
}

/// The changes of one committed transaction, and the position to confirm to the server once
/// they are all applied.
public struct CapturedTransaction: Sendable, Equatable {
    public var changes: [CapturedChange]
    public var commitEnd: LSN
    /// When it committed at the source, in microseconds since 2000-01-01 (PostgreSQL's epoch).
    public var commitTimeMicroseconds: Int64 = 0
}

/// Turns the replication stream's messages into committed transactions of Temporal's table.
/// Pure: the shell feeds it what the server sends and applies what it returns. Changes are
/// held until their transaction commits (pgoutput sends a transaction whole, at its commit).
public struct ChangeDecoder: Sendable {
    public static let table = "executions_visibility"

    private var relations: [UInt32: PgOutputMessage.Relation] = [:]
    private var pending: [CapturedChange]?
    /// Bounds one transaction held in memory: a bigger one is an error, not an unbounded buffer.
    public let transactionChangesMax: Int

    public init(transactionChangesMax: Int = 1_000_000) { self.transactionChangesMax = transactionChangesMax }

    /// Whether a transaction's BEGIN has arrived and its COMMIT not yet: the server's end
    /// position then says nothing about what was applied.
    public var isInTransaction: Bool { pending != nil }

    /// Feeds one XLogData payload starting at `position`; returns a transaction when it commits.
    public mutating func decode(_ payload: [UInt8], at position: LSN) throws -> CapturedTransaction? {
        switch try PgOutputMessage.decode(payload) {
        case .begin:
            pending = []
        case .commit(_, let end, let time):
            guard let changes = pending else { throw CaptureError("a commit at \(position) without its begin") }
            pending = nil
            return CapturedTransaction(changes: changes, commitEnd: end, commitTimeMicroseconds: time)
        case .relation(let relation):
            relations[relation.id] = relation
        case .insert(let id, let new):
            try append(.upsert(try values(new, of: id)), at: position, relation: id, new: new)
        case .update(let id, _, let new):
            try append(.upsert(try values(new, of: id)), at: position, relation: id, new: new)
        case .delete(let id, let old):
            let key = try values(old, of: id)
            try add(CapturedChange(kind: .delete(namespaceId: TemporalRow.unpadded(key["namespace_id"] ?? nil),
                                                 runId: TemporalRow.unpadded(key["run_id"] ?? nil)), position: position))
        case .truncate:
            throw CaptureError("executions_visibility was truncated at \(position): a migration cannot follow a truncate; start it again")
        case .other:
            break
        }
        return nil
    }

    private mutating func append(_ kind: CapturedChange.Kind, at position: LSN, relation: UInt32, new: [PgOutputMessage.TupleValue]) throws {
        guard case .upsert(let values) = kind else { return try add(CapturedChange(kind: kind, position: position)) }
        if new.contains(.unchangedToast) {
            let key = (TemporalRow.unpadded(values["namespace_id"] ?? nil), TemporalRow.unpadded(values["run_id"] ?? nil))
            return try add(CapturedChange(kind: .refetch(namespaceId: key.0, runId: key.1), position: position))
        }
        try add(CapturedChange(kind: kind, position: position))
    }

    private mutating func add(_ change: CapturedChange) throws {
        guard pending != nil else { throw CaptureError("a change at \(change.position) outside a transaction") }
        guard pending!.count < transactionChangesMax else {
            throw CaptureError("a transaction of more than \(transactionChangesMax) changes to executions_visibility")
        }
        pending!.append(change)
    }

    /// A tuple's values by column name, for a relation the server described.
    private func values(_ tuple: [PgOutputMessage.TupleValue], of id: UInt32) throws -> TemporalRow.Values {
        guard let relation = relations[id] else { throw CaptureError("a change of relation \(id), which the server never described") }
        guard relation.name == Self.table else {
            throw CaptureError("a change of \(relation.schema).\(relation.name): the publication must hold executions_visibility only")
        }
        guard tuple.count == relation.columns.count else {
            throw CaptureError("a change with \(tuple.count) values for \(relation.columns.count) columns of \(relation.name)")
        }
        var values: TemporalRow.Values = [:]
        for (column, value) in zip(relation.columns, tuple) {
            switch value {
            case .null: values[column] = .some(nil)
            case .text(let text): values[column] = text
            case .unchangedToast: values[column] = .some(nil)
            }
        }
        return values
    }
}

/// The capture stream could not be followed: what, and where in the WAL.
public struct CaptureError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
