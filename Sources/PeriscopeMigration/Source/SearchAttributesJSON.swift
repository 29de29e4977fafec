import Foundation
import PeriscopeModel

/// The `search_attributes` JSONB of Temporal's table: field name → value, with datetimes as
/// RFC 3339 strings and keyword lists as arrays. Each value is read as the type its field
/// has (`types`); a field without a type, or a value of another shape, is an error that
/// names it, never dropped silently.
public enum SearchAttributesJSON {
    public static func decode(_ text: String?, types: [String: SearchAttributeType]) throws(RowError) -> [String: SearchAttributeValue] {
        guard let text, !text.isEmpty, text != "null" else { return [:] }
        let object: [String: JSONValue]
        do {
            object = try JSONDecoder().decode([String: JSONValue].self, from: Data(text.utf8))
        } catch {
            throw RowError(column: "search_attributes", "not a JSON object: \(error)")
        }
        var attributes: [String: SearchAttributeValue] = [:]
        for (name, value) in object {
            if case .null = value { continue }
            guard let type = types[name] else {
                throw RowError(column: "search_attributes", "\(name) has no registered type (register it, or map it with an alias)")
            }
            guard let typed = typed(value, as: type) else {
                throw RowError(column: "search_attributes", "\(name) is a \(type.name) but holds \(value.summary)")
            }
            if !typed.isEmpty { attributes[name] = typed }
        }
        return attributes
    }

    /// `attributes` as Temporal's SQL store writes them (for the source writer and reverse sync).
    public static func encode(_ attributes: [String: SearchAttributeValue]) -> String {
        var object: [String: JSONValue] = [:]
        for (name, value) in attributes {
            object[name] = switch value {
            case .keyword(let string), .text(let string): .string(string)
            case .keywordList(let list): .array(list.map { .string($0) })
            case .int(let number): .integer(number)
            case .double(let number): .double(number)
            case .bool(let flag): .bool(flag)
            case .datetime(let time): .string(time.rfc3339)
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(object)) ?? Data("{}".utf8), as: UTF8.self)
    }

    private static func typed(_ value: JSONValue, as type: SearchAttributeType) -> SearchAttributeValue? {
        switch (type, value) {
        case (.keyword, .string(let string)): return .keyword(string)
        case (.text, .string(let string)): return .text(string)
        case (.keywordList, .array(let items)):
            var strings: [String] = []
            for item in items {
                guard case .string(let string) = item else { return nil }
                strings.append(string)
            }
            return .keywordList(strings)
        // A list field holding one string: Temporal's SQL store accepts either.
        case (.keywordList, .string(let string)): return .keywordList([string])
        case (.int, .integer(let number)): return .int(number)
        case (.double, .integer(let number)): return .double(Double(number))
        case (.double, .double(let number)): return .double(number)
        case (.bool, .bool(let flag)): return .bool(flag)
        case (.datetime, .string(let string)): return (try? Timestamp(rfc3339: string)).map { .datetime($0) }
        default: return nil
        }
    }
}

/// A JSON value that keeps integers exact (a JSONB Int can exceed a Double's 53 bits).
enum JSONValue: Codable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Int64.self) {
            self = .integer(number)
        } else if let number = try? container.decode(Double.self) {
            self = .double(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let array = try? container.decode([JSONValue].self) {
            self = .array(array)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .integer(let number): try container.encode(number)
        case .double(let number): try container.encode(number)
        case .string(let string): try container.encode(string)
        case .array(let array): try container.encode(array)
        case .object(let object): try container.encode(object)
        }
    }

    var summary: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer: "an integer"
        case .double: "a number"
        case .string(let string): "the string \"\(string.prefix(40))\""
        case .array: "an array"
        case .object: "an object"
        }
    }
}
