/// An ordered list of HTTP/2 header fields, pseudo-headers (`:method`, `:path`, `:status`…)
/// included, as they travel in one HEADERS block. Names are lower-case on the wire (HTTP/2
/// requires it; nghttp2 rejects upper-case names it receives), so lookups compare lower-case.
///
/// Stored as the fields' bytes in one array plus their spans, not as strings: every request
/// builds one of these in nghttp2's header callback, and most fields are never read as
/// strings. Lookups compare bytes; nghttp2 reads names and values straight from the storage.
public struct HTTP2Headers: Sendable, CustomStringConvertible {
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

    /// One field: its name starts at `start`, its value follows the name directly.
    struct Span: Sendable {
        var start: Int
        var nameLength: Int
        var valueLength: Int
        var neverIndex: Bool

        var name: Range<Int> { start..<(start + nameLength) }
        var value: Range<Int> { (start + nameLength)..<(start + nameLength + valueLength) }
    }

    private(set) var bytes: [UInt8] = []
    private(set) var spans: [Span] = []

    public init(_ fields: [(String, String)] = []) {
        for (name, value) in fields { add(name, value) }
    }

    init(reservingCapacity fieldCount: Int, bytes byteCount: Int) {
        spans.reserveCapacity(fieldCount)
        bytes.reserveCapacity(byteCount)
    }

    public mutating func add(_ name: String, _ value: String, neverIndex: Bool = false) {
        let start = bytes.count
        bytes.append(contentsOf: name.utf8)
        let nameLength = bytes.count - start
        bytes.append(contentsOf: value.utf8)
        spans.append(Span(start: start, nameLength: nameLength, valueLength: bytes.count - start - nameLength,
                          neverIndex: neverIndex))
    }

    /// Appends a field from raw bytes (nghttp2's header callback).
    mutating func add(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
        let start = bytes.count
        bytes.append(contentsOf: name)
        bytes.append(contentsOf: value)
        spans.append(Span(start: start, nameLength: name.count, valueLength: value.count, neverIndex: false))
    }

    public var count: Int { spans.count }

    public var fields: [Field] {
        spans.map { Field(name: string(bytes[$0.name]), value: string(bytes[$0.value]), neverIndex: $0.neverIndex) }
    }

    /// The first value of `name`, if any.
    public subscript(name: String) -> String? {
        var name = name
        return name.withUTF8 { wanted in
            for span in spans where span.nameLength == wanted.count && bytes[span.name].elementsEqual(wanted) {
                return string(bytes[span.value])
            }
            return nil
        }
    }

    /// Whether the first field called `name` has exactly `value`, compared as bytes (no
    /// string is made: this runs on every request for `:method` and `content-type`).
    public func first(_ name: String, is value: String) -> Bool {
        var name = name, value = value
        return name.withUTF8 { wantedName in
            value.withUTF8 { wantedValue in
                for span in spans where span.nameLength == wantedName.count && bytes[span.name].elementsEqual(wantedName) {
                    return span.valueLength == wantedValue.count && bytes[span.value].elementsEqual(wantedValue)
                }
                return false
            }
        }
    }

    public var method: String? { self[":method"] }
    public var path: String? { self[":path"] }
    public var status: Int? { self[":status"].flatMap { Int($0) } }
    public var contentType: String? { self["content-type"] }

    /// The bytes this list counts toward SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 §6.5.2: each
    /// field's name and value octets plus 32).
    public var listSize: Int { bytes.count + 32 * spans.count }

    public var description: String {
        fields.map { "\($0.name): \($0.value)" }.joined(separator: ", ")
    }

    private func string(_ slice: ArraySlice<UInt8>) -> String {
        String(decoding: slice, as: UTF8.self)
    }
}

extension HTTP2Headers: Equatable {
    public static func == (lhs: HTTP2Headers, rhs: HTTP2Headers) -> Bool {
        lhs.fields == rhs.fields
    }
}

extension HTTP2Headers: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }
}
