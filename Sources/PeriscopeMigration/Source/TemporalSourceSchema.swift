import PeriscopeModel
import PeriscopePostgres

/// What the source's `executions_visibility` holds, read from PostgreSQL's catalog: that it
/// is Temporal's table (every column the migration reads is there), and each search
/// attribute field's type, from its generated column's type (Temporal's SQL schema
/// pre-allocates typed columns, Keyword01 to Keyword10 and so on).
public struct TemporalSourceSchema: Sendable, Equatable {
    /// Field name (as the JSONB stores it) → type: predefined attributes and every generated column.
    public var attributeTypes: [String: SearchAttributeType]
    /// The custom fields (neither predefined nor Temporal's own), which Periscope registers.
    public var customAttributes: [String: SearchAttributeType]
    /// The generated columns (lower case): the attributes a query can use in the source.
    public var attributeColumns: Set<String>

    /// Reads the schema through `connection`; throws `MigrationError.notTemporalSchema`
    /// naming what is missing.
    public static func inspect(_ connection: PostgresConnection) throws -> TemporalSourceSchema {
        let columns = try connection.query("""
            SELECT column_name, data_type, is_generated FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = 'executions_visibility'
            """)
        guard !columns.rows.isEmpty else {
            throw MigrationError.notTemporalSchema("\(connection.endpoint) has no table executions_visibility in its current schema")
        }
        let present = Set(columns.rows.compactMap { $0[0] })
        let missing = TemporalRow.columns.filter { !present.contains($0) }
        guard missing.isEmpty else {
            throw MigrationError.notTemporalSchema("executions_visibility at \(connection.endpoint) lacks column(s) \(missing.joined(separator: ", "))")
        }
        var generated: [String: String] = [:]
        for row in columns.rows where row[2] == "ALWAYS" {
            if let name = row[0], let type = row[1] { generated[name] = type }
        }
        return try TemporalSourceSchema(generatedColumns: generated)
    }

    /// From the generated columns' names (lower case, as PostgreSQL folds them) and types.
    public init(generatedColumns: [String: String]) throws {
        var types = AttributeCatalog.predefined
        var custom: [String: SearchAttributeType] = [:]
        for (column, dataType) in generatedColumns {
            guard let type = Self.attributeType(ofColumnType: dataType) else {
                throw MigrationError.notTemporalSchema("generated column \(column) has type \(dataType), which no search attribute type maps to")
            }
            let field = Self.knownFields[column] ?? column
            if let predefined = AttributeCatalog.predefined[field], predefined != type {
                throw MigrationError.notTemporalSchema("column \(column) is \(dataType), but \(field) is a \(predefined.name)")
            }
            types[field] = type
            if AttributeCatalog.predefined[field] == nil, !field.hasPrefix("Temporal") { custom[field] = type }
        }
        attributeTypes = types
        customAttributes = custom
        attributeColumns = Set(generatedColumns.keys)
    }

    static func attributeType(ofColumnType type: String) -> SearchAttributeType? {
        switch type {
        case "character varying", "text": .keyword
        case "jsonb": .keywordList
        case "bigint", "integer": .int
        case "numeric", "double precision": .double
        case "boolean": .bool
        case "timestamp without time zone", "timestamp with time zone": .datetime
        case "tsvector": .text
        default: nil
        }
    }

    /// The field names of Temporal's schema by their folded column names.
    static let knownFields: [String: String] = {
        var names = Array(AttributeCatalog.predefined.keys)
        for (prefix, count) in [("Bool", 3), ("Datetime", 3), ("Double", 3), ("Int", 3), ("Keyword", 10), ("Text", 3), ("KeywordList", 3)] {
            names += (1...count).map { prefix + ($0 < 10 ? "0\($0)" : "\($0)") }
        }
        for (prefix, count) in [("TemporalBool", 2), ("TemporalDatetime", 2), ("TemporalDouble", 2), ("TemporalInt", 2),
                                ("TemporalKeyword", 4), ("TemporalLowCardinalityKeyword", 1), ("TemporalKeywordList", 2)] {
            names += (1...count).map { prefix + "0\($0)" }
        }
        return Dictionary(uniqueKeysWithValues: names.map { ($0.lowercased(), $0) })
    }()
}
