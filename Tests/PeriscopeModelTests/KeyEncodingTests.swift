import PeriscopeTestSupport
import Testing
import PeriscopeModel

/// The order keys must have, written independently of the encoder.
enum Oracle {
    /// -1, 0 or 1: how `a` compares to `b`, for elements of the same type.
    static func compare(_ a: TupleElement, _ b: TupleElement) -> Int {
        switch (a, b) {
        case (.null, .null): return 0
        case let (.bool(x), .bool(y)): return sign(x == y ? 0 : (x ? 1 : -1))
        case let (.int(x), .int(y)): return x < y ? -1 : (x == y ? 0 : 1)
        case let (.timestamp(x), .timestamp(y)): return x < y ? -1 : (x == y ? 0 : 1)
        case let (.double(x), .double(y)):
            // Total order: -0 equals +0, every NaN equal and above +infinity.
            if x.isNaN || y.isNaN { return x.isNaN && y.isNaN ? 0 : (x.isNaN ? 1 : -1) }
            return x < y ? -1 : (x == y ? 0 : 1)
        case let (.string(x), .string(y)): return bytes(Array(x.utf8), Array(y.utf8))
        case let (.bytes(x), .bytes(y)): return bytes(x, y)
        default: fatalError("oracle compares same-typed elements only: \(a), \(b)")
        }
    }

    static func bytes(_ x: [UInt8], _ y: [UInt8]) -> Int {
        x == y ? 0 : (x.lexicographicallyPrecedes(y) ? -1 : 1)
    }

    static func sign(_ value: Int) -> Int { value < 0 ? -1 : (value > 0 ? 1 : 0) }

    /// Tuples compare element by element, each in its direction.
    static func compare(_ a: [(TupleElement, SortDirection)], _ b: [(TupleElement, SortDirection)]) -> Int {
        for ((x, direction), (y, _)) in zip(a, b) {
            let order = compare(x, y)
            if order != 0 { return direction == .ascending ? order : -order }
        }
        return 0
    }
}

enum ElementKind: CaseIterable {
    case null, bool, int, double, timestamp, string, bytes
}

/// Random values biased toward the edges where encodings break.
struct ElementGenerator {
    var random: SeededRandom

    static let specialInts: [Int64] = [.min, .min + 1, -256, -1, 0, 1, 255, 256, .max - 1, .max]
    static let specialDoubles: [Double] = [
        -.infinity, -.greatestFiniteMagnitude, -1, -.leastNormalMagnitude, -.leastNonzeroMagnitude, -0.0, 0.0,
        .leastNonzeroMagnitude, .leastNormalMagnitude, 1, .greatestFiniteMagnitude, .infinity, .nan, -.nan,
    ]
    static let stringPieces = ["", "\u{0}", "\u{1}", "a", "b", "é", "e\u{301}", "\u{7F}", "ÿ", "\u{FFFF}", "𝄞", "\u{0}\u{0}"]
    static let bytePieces: [UInt8] = [0x00, 0x01, 0x02, 0x7F, 0x80, 0xFE, 0xFF]

    mutating func element(_ kind: ElementKind) -> TupleElement {
        switch kind {
        case .null: return .null
        case .bool: return .bool(Bool.random(using: &random))
        case .int: return .int(integer())
        case .timestamp: return .timestamp(Timestamp(nanosecondsSinceEpoch: integer()))
        case .double:
            switch Int.random(in: 0..<3, using: &random) {
            case 0: return .double(Self.specialDoubles.randomElement(using: &random)!)
            case 1: return .double(Double(bitPattern: random.next()))
            default: return .double(Double(Int.random(in: -1000...1000, using: &random)) / 8)
            }
        case .string:
            let count = Int.random(in: 0...4, using: &random)
            return .string((0..<count).map { _ in Self.stringPieces.randomElement(using: &random)! }.joined())
        case .bytes:
            let count = Int.random(in: 0...6, using: &random)
            return .bytes((0..<count).map { _ in
                Bool.random(using: &random) ? Self.bytePieces.randomElement(using: &random)! : UInt8.random(in: 0...255, using: &random)
            })
        }
    }

    private mutating func integer() -> Int64 {
        switch Int.random(in: 0..<3, using: &random) {
        case 0: Self.specialInts.randomElement(using: &random)!
        case 1: Int64(bitPattern: random.next())
        default: Int64.random(in: -1000...1000, using: &random)
        }
    }
}

/// What decoding returns: -0.0 comes back as +0.0 and every NaN as one NaN.
func canonical(_ element: TupleElement) -> TupleElement {
    guard case .double(let value) = element else { return element }
    return .double(value.isNaN ? .nan : (value == 0 ? 0 : value))
}

func sameElement(_ a: TupleElement, _ b: TupleElement) -> Bool {
    if case .double(let x) = a, case .double(let y) = b, x.isNaN, y.isNaN { return true }
    return a == b
}

@Suite struct KeyEncodingTests {
    static let seeds: [UInt64] = [11, 22, 33]

    /// `encode(a) < encode(b)` exactly when `a < b`, for every type and both directions.
    @Test(arguments: seeds)
    func byteOrderIsValueOrderForEveryTypeAndDirection(seed: UInt64) {
        var generator = ElementGenerator(random: SeededRandom(seed: seed))
        for kind in ElementKind.allCases {
            for direction in [SortDirection.ascending, .descending] {
                for _ in 0..<1500 {
                    let a = generator.element(kind)
                    let b = generator.element(kind)
                    let expected = direction == .ascending ? Oracle.compare(a, b) : -Oracle.compare(a, b)
                    let actual = Oracle.bytes(KeyEncoder.encode([a], direction: direction), KeyEncoder.encode([b], direction: direction))
                    #expect(actual == expected, "seed \(seed) \(kind) \(direction): \(a) vs \(b)")
                }
            }
        }
    }

    /// Whole tuples with mixed types and directions: byte order is tuple order. This also
    /// proves element encodings are prefix-free (a shorter string never bleeds into the next
    /// element's comparison).
    @Test(arguments: seeds)
    func byteOrderIsTupleOrder(seed: UInt64) {
        var generator = ElementGenerator(random: SeededRandom(seed: seed))
        for _ in 0..<3000 {
            let length = Int.random(in: 1...4, using: &generator.random)
            let schema = (0..<length).map { _ in
                (ElementKind.allCases.randomElement(using: &generator.random)!,
                 Bool.random(using: &generator.random) ? SortDirection.ascending : .descending)
            }
            // Share a random prefix so later elements get compared often.
            let shared = Int.random(in: 0..<length, using: &generator.random)
            var a: [(TupleElement, SortDirection)] = []
            var b: [(TupleElement, SortDirection)] = []
            for (index, (kind, direction)) in schema.enumerated() {
                let x = generator.element(kind)
                a.append((x, direction))
                b.append((index < shared ? x : generator.element(kind), direction))
            }
            let actual = Oracle.bytes(encode(a), encode(b))
            #expect(actual == Oracle.compare(a, b), "seed \(seed): \(a) vs \(b)")
        }
    }

    @Test(arguments: seeds)
    func roundTripsWithDirections(seed: UInt64) throws {
        var generator = ElementGenerator(random: SeededRandom(seed: seed))
        for _ in 0..<3000 {
            let tuple = (0..<Int.random(in: 0...5, using: &generator.random)).map { _ in
                (generator.element(ElementKind.allCases.randomElement(using: &generator.random)!),
                 Bool.random(using: &generator.random) ? SortDirection.ascending : .descending)
            }
            let decoded = try KeyDecoder.decode(encode(tuple))
            #expect(decoded.count == tuple.count)
            for ((element, direction), (original, originalDirection)) in zip(decoded, tuple) {
                #expect(sameElement(element, canonical(original)), "seed \(seed): \(original) came back as \(element)")
                #expect(direction == originalDirection)
            }
        }
    }

    @Test func typesSortInTheirDocumentedOrder() {
        let ordered: [TupleElement] = [.null, .bool(false), .bool(true), .int(.max), .double(-.infinity),
                                        .timestamp(.min), .string(""), .bytes([])]
        let keys = ordered.map { KeyEncoder.encode([$0]) }
        #expect(keys == keys.sorted { $0.lexicographicallyPrecedes($1) })
    }

    @Test func stringPrefixCoversExactlyTheStringsStartingWithIt() {
        var prefixEncoder = KeyEncoder()
        prefixEncoder.append(.string("ns"))
        prefixEncoder.appendStringPrefix("Or\u{0}d")
        let prefix = prefixEncoder.bytes
        for candidate in ["Or\u{0}d", "Or\u{0}der", "Or\u{0}d\u{0}", "Or\u{0}", "Ord", "Or", "Os", "Or\u{0}c"] {
            let key = KeyEncoder.encode([.string("ns"), .string(candidate), .int(1)])
            #expect(key.starts(with: prefix) == candidate.hasPrefix("Or\u{0}d"), "\(candidate.debugDescription)")
        }
    }

    @Test(arguments: [
        ([UInt8](), "expected an element"),
        ([0x20, 0x00], "expected 8 bytes"),
        ([0x50, 0x61], "string has no terminator"),
        ([0x50, 0x61, 0x00], "string ends inside an escape"),
        ([0x50, 0x61, 0x00, 0x02], "invalid escape"),
        ([0x50, 0xC3, 0x28, 0x00, 0x01], "not valid UTF-8"),
        ([0x99], "unknown type byte"),
        ([0x07], "unknown type byte"),
    ])
    func malformedKeysAreErrorsNotCrashes(bytes: [UInt8], reason: String) {
        var decoder = KeyDecoder(bytes)
        #expect {
            _ = try decoder.next()
        } throws: { error in
            (error as? KeyDecodingError)?.reason.contains(reason) == true
        }
    }

    @Test(arguments: seeds)
    func randomBytesNeverCrashTheDecoder(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var decodedSome = 0
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 0...24, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            if let elements = try? KeyDecoder.decode(bytes) {
                decodedSome += 1
                // Whatever decodes must re-encode to the same bytes (no two spellings of one key),
                // except the canonicalized doubles.
                let containsDouble = elements.contains { if case .double = $0.0 { true } else { false } }
                if !containsDouble { #expect(encode(elements) == bytes, "seed \(seed): \(bytes)") }
            }
        }
        #expect(decodedSome > 0)
    }

    private func encode(_ tuple: [(TupleElement, SortDirection)]) -> [UInt8] {
        var encoder = KeyEncoder()
        for (element, direction) in tuple { encoder.append(element, direction) }
        return encoder.bytes
    }
}
