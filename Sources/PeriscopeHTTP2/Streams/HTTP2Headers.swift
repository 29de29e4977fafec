/// An ordered list of HTTP/2 header fields, pseudo-headers (`:method`, `:path`, `:status`…)
/// included, as they travel in one HEADERS block. Names are lower-case on the wire (HTTP/2
/// requires it; nghttp2 rejects upper-case names it receives), so lookups compare lower-case.
public struct HTTP2Headers: Sendable, Equatable, CustomStringConvertible {
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String
        /// Never put in the HPACK dynamic table (for secrets and values that vary per request).
        public var neverIndex: Bool

        public init(name: String, value: String, neverIndex: Bool = false) {
            self.name = name
            self.value = value
            self.neverIndex = neverIndex
        }
    }

    public private(set) var fields: [Field]

    public init(_ fields: [(String, String)] = []) {
        self.fields = fields.map { Field(name: $0.0, value: $0.1) }
    }

    public mutating func add(_ name: String, _ value: String, neverIndex: Bool = false) {
        fields.append(Field(name: name, value: value, neverIndex: neverIndex))
    }

    /// The first value of `name`, if any.
    public subscript(name: String) -> String? {
        fields.first { $0.name == name }?.value
    }

    public var method: String? { self[":method"] }
    public var path: String? { self[":path"] }
    public var status: Int? { self[":status"].flatMap { Int($0) } }
    public var contentType: String? { self["content-type"] }

    /// The bytes this list counts toward SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 §6.5.2: each
    /// field's name and value octets plus 32).
    public var listSize: Int {
        fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 32 }
    }

    public var description: String {
        fields.map { "\($0.name): \($0.value)" }.joined(separator: ", ")
    }
}

extension HTTP2Headers: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }
}
