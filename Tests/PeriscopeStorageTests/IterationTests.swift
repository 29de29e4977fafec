import Testing
import PeriscopeStorage

@Suite struct IterationTests {
    /// Keys inserted in a scrambled order, read back in byte order.
    static let keys: [String] = ["a", "a\u{0}", "ab", "b", "b/1", "b/2", "b/3", "ba", "c", "z"]

    static func filled(_ directory: TemporaryDirectory, _ options: DatabaseOptions = testOptions()) throws -> Database {
        let db = try Database.open(at: directory.path, options: options)
        for key in keys.reversed() { try db.put(key.bytes, "v:\(key)".bytes, options: .buffered) }
        return db
    }

    static func keysOf(_ entries: ScanEntries) -> [String] {
        entries.map { String(decoding: $0.key, as: UTF8.self) }
    }

    @Test func forwardAndReverseScansAreInByteOrder() throws {
        let directory = TemporaryDirectory()
        let db = try Self.filled(directory)
        #expect(try db.scan(Self.keysOf) == Self.keys)
        #expect(try db.scan(direction: .reverse, Self.keysOf) == Self.keys.reversed())
        let values = try db.scan { entries in entries.map { String(decoding: $0.value, as: UTF8.self) } }
        #expect(values == Self.keys.map { "v:\($0)" })
    }

    @Test func boundsAreHalfOpen() throws {
        let directory = TemporaryDirectory()
        let db = try Self.filled(directory)
        let range = KeyRange(from: "ab".bytes, to: "b/3".bytes)
        #expect(try db.scan(range: range, Self.keysOf) == ["ab", "b", "b/1", "b/2"])
        #expect(try db.scan(range: range, direction: .reverse, Self.keysOf) == ["b/2", "b/1", "b", "ab"])
        #expect(try db.scan(range: KeyRange(from: "y".bytes), Self.keysOf) == ["z"])
        #expect(try db.scan(range: KeyRange(to: "ab".bytes), Self.keysOf) == ["a", "a\u{0}"])
        #expect(try db.scan(range: KeyRange(from: "d".bytes, to: "e".bytes), Self.keysOf) == [])
    }

    @Test func prefixRangeSeesOnlyItsPrefix() throws {
        let directory = TemporaryDirectory()
        let db = try Self.filled(directory)
        #expect(try db.scan(range: .prefix("b/".bytes), Self.keysOf) == ["b/1", "b/2", "b/3"])
        #expect(try db.scan(range: .prefix("b/".bytes), direction: .reverse, Self.keysOf) == ["b/3", "b/2", "b/1"])
        #expect(KeyRange.prefixSuccessor([0x61, 0xFF]) == [0x62])
        #expect(KeyRange.prefixSuccessor([0xFF, 0xFF]) == nil)
        #expect(KeyRange.prefix([0xFF]).upperBound == nil)
    }

    /// With a fixed-length prefix extractor, `prefixSeek` uses the prefix bloom filters and
    /// stays inside the seek key's prefix, also once the data is in SST files.
    @Test func prefixSeekWithPrefixExtractor() throws {
        let directory = TemporaryDirectory()
        let family = ColumnFamilyOptions(prefixExtractor: .fixed(length: 4), memtablePrefixBloomRatio: 0.1)
        let db = try Database.open(at: directory.path, options: testOptions(), columnFamilies: ["p": family])
        let p = try db.requireColumnFamily("p")
        for group in ["aaaa", "bbbb", "cccc"] {
            for i in 0..<5 { try db.put("\(group)\(i)".bytes, [UInt8(i)], in: p, options: .buffered) }
        }
        for flushed in [false, true] {
            if flushed { try db.flush(p) }
            let cursor = try db.makeCursor(in: p, options: ReadOptions(prefixSeek: true))
            var seen: [String] = []
            var positioned = try cursor.seek(to: "bbbb".bytes)
            while positioned {
                seen.append(String(decoding: cursor.key, as: UTF8.self))
                positioned = try cursor.next()
            }
            #expect(seen == (0..<5).map { "bbbb\($0)" }, "flushed: \(flushed)")
        }
        // Total order (the default) still sees every group.
        #expect(try db.scan(in: p) { Array($0).count } == 15)
    }

    @Test func cursorSeeksBothWays() throws {
        let directory = TemporaryDirectory()
        let db = try Self.filled(directory)
        let cursor = try db.makeCursor()
        #expect(try cursor.seek(to: "b/".bytes))
        #expect(cursor.key == "b/1".bytes)
        #expect(try cursor.seek(toLastAtOrBefore: "b/".bytes))
        #expect(cursor.key == "b".bytes)
        #expect(try cursor.previous())
        #expect(cursor.key == "ab".bytes)
        #expect(try cursor.seekToLast())
        #expect(cursor.entry == KeyValue(key: "z".bytes, value: "v:z".bytes))
        #expect(try cursor.next() == false)
        #expect(cursor.isValid == false)
        #expect(try cursor.seek(to: "zz".bytes) == false)
        #expect(try cursor.seekToFirst())
        #expect(cursor.key == "a".bytes)
    }

    @Test func cursorWithBoundsStopsAtThem() throws {
        let directory = TemporaryDirectory()
        let db = try Self.filled(directory)
        let cursor = try db.makeCursor(range: KeyRange(from: "b".bytes, to: "c".bytes))
        #expect(try cursor.seekToFirst())
        #expect(cursor.key == "b".bytes)
        #expect(try cursor.seekToLast())
        #expect(cursor.key == "ba".bytes)
        #expect(try cursor.seek(to: "a".bytes))
        #expect(cursor.key == "b".bytes, "a seek below the lower bound lands on it")
    }

    @Test func scanSequenceCanBeWalkedTwiceAndStoppedEarly() throws {
        let directory = TemporaryDirectory()
        let db = try Self.filled(directory)
        let (first, again) = try db.scan { entries in
            (Array(entries.prefix(2)).map(\.key), Array(entries).count)
        }
        #expect(first == ["a".bytes, "a\u{0}".bytes])
        #expect(again == Self.keys.count)
    }

    @Test func scanOfAClosedDatabaseThrowsInsteadOfReturningNothing() throws {
        let directory = TemporaryDirectory()
        let db = try Self.filled(directory)
        try db.close()
        let error = storageError { _ = try db.scan { Array($0) } }
        #expect(error?.code == .closed)
    }
}
