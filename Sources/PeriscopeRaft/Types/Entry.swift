/// One entry of the replicated log.
public struct Entry: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: UInt8, Sendable {
        /// Application data (or the empty entry a new leader appends to commit its term).
        case normal = 0
        /// A membership change: `data` is an encoded `ConfChange`.
        case confChange = 1
    }

    public var term: Term
    public var index: LogIndex
    public var kind: Kind
    public var data: [UInt8]

    public init(term: Term, index: LogIndex, kind: Kind = .normal, data: [UInt8] = []) {
        self.term = term
        self.index = index
        self.kind = kind
        self.data = data
    }

    /// What the entry costs against byte limits: its payload plus a fixed header, so empty
    /// entries still count.
    public var byteCount: Int { data.count + Entry.headerBytes }
    static let headerBytes = 24

    public var description: String { "\(index)@\(term)\(kind == .confChange ? "(conf)" : "")" }
}

extension Array where Element == Entry {
    var byteCount: Int { reduce(0) { $0 + $1.byteCount } }
}

/// Entries from the front of `entries` whose total size stays within `bytesMax`; at least
/// one entry, so a single oversized entry still moves.
func limitSize(_ entries: ArraySlice<Entry>, bytesMax: Int) -> [Entry] {
    guard let first = entries.first else { return [] }
    var total = first.byteCount
    var end = entries.startIndex + 1
    while end < entries.endIndex {
        total += entries[end].byteCount
        if total > bytesMax { break }
        end += 1
    }
    return Array(entries[entries.startIndex..<end])
}
