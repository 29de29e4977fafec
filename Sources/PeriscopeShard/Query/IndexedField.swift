import PeriscopeModel
import PeriscopeQuery

/// Where a query field's values are indexed, and how a literal becomes an index element.
/// Mirrors `IndexEntries`, which writes them.
enum IndexedField {
    /// The system fields `IndexEntries` writes to the inverted and to the value index.
    static let systemTermFields = Set(IndexEntries.systemTerms.map(\.0) + [IndexEntries.statusField])
    static let systemValueFields = Set(IndexEntries.systemValues.map(\.0))
    /// System fields every record has (never NULL).
    static let alwaysPresent: Set<String> = [
        "WorkflowId", "RunId", "WorkflowType", "TaskQueue", "ExecutionStatus", "StartTime", "ExecutionTime",
        "RootWorkflowId", "RootRunId",
    ]

    static func isTermField(_ field: QueryField) -> Bool {
        if field.kind == .system { return systemTermFields.contains(field.name) }
        return [.keyword, .keywordList, .bool, .text].contains(field.type)
    }

    static func isValueField(_ field: QueryField) -> Bool {
        if field.kind == .system { return systemValueFields.contains(field.name) }
        return [.int, .double, .datetime].contains(field.type)
    }

    /// GROUP BY fields whose groups the inverted index holds: one single value per
    /// execution (keywords, Bool, ExecutionStatus).
    static func isGroupableFromIndex(_ field: QueryField) -> Bool {
        isTermField(field) && (field.type == .keyword || field.type == .bool)
    }

    enum Rounding { case up, down }

    /// The index element for a literal compared with `field`, and whether it had to be
    /// rounded to an integer (a Double literal against an Int field). Nil when the literal
    /// cannot be placed exactly (an Int too large for a Double field's exact range).
    static func element(_ value: QueryValue, for field: QueryField, rounding: Rounding) -> (TupleElement, rounded: Bool)? {
        switch (value, field.type) {
        case (.status(let status), _): return (.int(Int64(status.rawValue)), false)
        case (.string(let string), .keyword), (.string(let string), .keywordList): return (.string(string), false)
        case (.bool(let flag), .bool): return (.bool(flag), false)
        case (.datetime(let time), .datetime): return (.timestamp(time), false)
        case (.int(let number), .int): return (.int(number), false)
        case (.double(let number), .double): return (.double(number), false)
        case (.int(let number), .double):
            let converted = Double(number)
            guard Int64(exactly: converted) == number else { return nil }
            return (.double(converted), false)
        case (.double(let number), .int):
            guard number.isFinite, abs(number) < 9.0e18 else { return nil }
            if number == number.rounded() { return (.int(Int64(number)), false) }
            return (.int(Int64(rounding == .up ? number.rounded(.up) : number.rounded(.down))), true)
        default:
            return nil
        }
    }
}
