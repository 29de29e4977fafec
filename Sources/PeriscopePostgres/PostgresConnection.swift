import CLibPQ
import Foundation

/// One connection to a PostgreSQL server, owned by this object and closed in `deinit`.
/// Every method blocks; use a connection from one thread at a time.
public final class PostgresConnection: @unchecked Sendable {
    // @unchecked: libpq's connection is not thread-safe; the owner uses it from one thread at
    // a time (each caller holds its connection for the duration of one blocking task).
    let handle: OpaquePointer
    /// Where it is connected, for messages: host:port/database.
    public let endpoint: String

    /// Connects with `conninfo` (`host=... port=... dbname=...` or a `postgresql://` URL).
    /// `replication`: a replication connection (`replication=database`), which takes the
    /// replication protocol's commands (CREATE_REPLICATION_SLOT, START_REPLICATION) as well
    /// as SQL. Waits at most `connectTimeoutSeconds` for the server.
    public init(_ conninfo: String, replication: Bool = false, connectTimeoutSeconds: Int = 10) throws(PostgresError) {
        // Later keywords override earlier ones: the timeout is a default the caller's string
        // may change; `replication` is the caller's choice here, not the string's.
        var keywords = ["connect_timeout", "application_name", "dbname"]
        var values = [String(connectTimeoutSeconds), "periscope-migrate", conninfo]
        if replication {
            keywords.append("replication")
            values.append("database")
        }
        let connection = Self.withCStrings(keywords) { keywordPointers in
            Self.withCStrings(values) { valuePointers in PQconnectdbParams(keywordPointers, valuePointers, 1) }
        }
        guard let connection else { throw PostgresError("connecting", "libpq could not allocate a connection") }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(connection))
            PQfinish(connection)
            throw PostgresError("connecting to \(Self.withoutPassword(conninfo))", message)
        }
        handle = connection
        let host = PQhost(connection).map { String(cString: $0) } ?? "?"
        let port = PQport(connection).map { String(cString: $0) } ?? "?"
        let database = PQdb(connection).map { String(cString: $0) } ?? "?"
        endpoint = "\(host):\(port)/\(database)"
    }

    deinit { PQfinish(handle) }

    /// The server's version as a number (150018 for 15.18).
    public var serverVersion: Int { Int(PQserverVersion(handle)) }

    /// Runs one statement with `$1, $2, …` bound to `parameters` (text format; nil is NULL).
    public func query(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> PostgresRows {
        let result = Self.withOptionalCStrings(parameters) { pointers in
            PQexecParams(handle, sql, Int32(parameters.count), nil, pointers, nil, nil, 0)
        }
        return try rows(of: result, doing: Self.summary(of: sql))
    }

    /// Runs SQL text, which may hold several statements (the simple query protocol), or a
    /// replication command on a replication connection. The last statement's rows.
    @discardableResult
    public func execute(_ sql: String) throws(PostgresError) -> PostgresRows {
        try rows(of: PQexec(handle, sql), doing: Self.summary(of: sql))
    }

    /// Runs `COPY (...) TO STDOUT` and hands each row's line (text format, without its
    /// newline) to `line`, as the server sends them: a table of any size in bounded memory.
    /// Returns the rows copied.
    @discardableResult
    public func copyOut(_ sql: String, _ line: ([UInt8]) throws -> Void) throws -> Int {
        let context = Self.summary(of: sql)
        let started = PQexec(handle, sql)
        defer { PQclear(started) }
        guard PQresultStatus(started) == PGRES_COPY_OUT else { throw error(of: started, doing: context) }
        var count = 0
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(handle, &buffer, 0)
            if length > 0, let buffer {
                defer { PQfreemem(buffer) }
                var bytes = [UInt8](UnsafeRawBufferPointer(start: buffer, count: Int(length)))
                if bytes.last == 0x0A { bytes.removeLast() }
                count += 1
                try line(bytes)
                continue
            }
            if length == -1 { break }
            throw PostgresError(context, Self.trimmed(PQerrorMessage(handle)))
        }
        // The COPY's own outcome follows its data.
        try drainResults(doing: context)
        return count
    }

    /// `value` as a quoted SQL string literal, escaped by libpq for this connection's
    /// encoding (for statements that take no parameters, such as COPY).
    public func literal(_ value: String) throws(PostgresError) -> String {
        guard let quoted = PQescapeLiteral(handle, value, value.utf8.count) else {
            throw PostgresError("quoting a literal", Self.trimmed(PQerrorMessage(handle)))
        }
        defer { PQfreemem(quoted) }
        return String(cString: quoted)
    }

    // MARK: Results

    private func rows(of result: OpaquePointer?, doing context: String) throws(PostgresError) -> PostgresRows {
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else { throw error(of: result, doing: context) }
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        var rows: [[String?]] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            rows.append((0..<columnCount).map { column in
                PQgetisnull(result, Int32(row), Int32(column)) == 1 ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(column)))
            })
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(columns: columns, rows: rows, affected: affected)
    }

    func error(of result: OpaquePointer?, doing context: String) -> PostgresError {
        guard let result else { return PostgresError(context, Self.trimmed(PQerrorMessage(handle))) }
        let message = Self.trimmed(PQresultErrorMessage(result))
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        return PostgresError(context, message.isEmpty ? Self.trimmed(PQerrorMessage(handle)) : message, sqlState: state)
    }

    /// Reads the results still pending after a COPY, throwing the first failure.
    func drainResults(doing context: String) throws(PostgresError) {
        var failure: PostgresError?
        while let result = PQgetResult(handle) {
            let status = PQresultStatus(result)
            if failure == nil, status != PGRES_COMMAND_OK, status != PGRES_TUPLES_OK { failure = error(of: result, doing: context) }
            PQclear(result)
        }
        if let failure { throw failure }
    }

    // MARK: C strings

    static func withCStrings<Result>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> Result) -> Result {
        withOptionalCStrings(strings, body, terminated: true)
    }

    /// `strings` as a C array of C strings (nil stays NULL), NULL-terminated if `terminated`.
    static func withOptionalCStrings<Result>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> Result,
                                             terminated: Bool = false) -> Result {
        let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0) } }
        defer { for copy in copies { free(copy) } }
        var pointers = copies.map { UnsafePointer($0) }
        if terminated || pointers.isEmpty { pointers.append(nil) }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "" }
        return String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The statement's first words, for messages (never its parameters).
    static func summary(of sql: String) -> String {
        let words = sql.split(whereSeparator: { $0.isWhitespace }).prefix(4).joined(separator: " ")
        return "running \"\(words)\(sql.count > words.count ? " …" : "")\""
    }

    /// `conninfo` without its password: for messages, and for what is stored (the password
    /// comes again with each command, or from ~/.pgpass).
    public static func withoutPassword(_ conninfo: String) -> String {
        conninfo.replacingOccurrences(of: #"\s*password=\S*"#, with: "", options: .regularExpression)
            .replacingOccurrences(of: #"://([^:/@]*):[^@]*@"#, with: "://$1@", options: .regularExpression)
            .trimmingCharacters(in: .whitespaces)
    }
}
