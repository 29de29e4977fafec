import Testing
import PeriscopeStorage

@Suite struct ColumnFamilyTests {
    @Test func createListAndDrop() throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.path, options: testOptions())
        let index = try db.createColumnFamily("index")
        #expect(db.columnFamilyNames == ["default", "index"])
        #expect(storageError { try db.createColumnFamily("index") }?.code == .columnFamilyExists)
        try db.put("term".bytes, "x".bytes, in: index)

        try db.dropColumnFamily(index)
        #expect(db.columnFamilyNames == ["default"])
        #expect(db.columnFamily(named: "index") == nil)
        let afterDrop = storageError { _ = try db.get("term".bytes, in: index) }
        #expect(afterDrop?.code == .columnFamilyDropped)
        #expect(afterDrop?.message.contains("index") == true)
        #expect(storageError { _ = try db.requireColumnFamily("index") }?.code == .columnFamilyNotFound)

        try db.close()
        let reopened = try Database.open(at: directory.path, options: testOptions())
        #expect(reopened.columnFamilyNames == ["default"])
        // A family of the same name can be created again, empty.
        let again = try reopened.createColumnFamily("index")
        #expect(try reopened.get("term".bytes, in: again) == nil)
    }

    /// Families created while another thread closes the database are either refused with
    /// `.closed` or destroyed by that close, never left behind (RocksDB forbids a family
    /// handle outliving its database, and would report it at close).
    @Test func createRacingWithCloseLeavesNoFamilyBehind() async throws {
        for round in 0..<30 {
            let directory = TemporaryDirectory()
            let db = try Database.open(at: directory.path, options: testOptions())
            async let creator: [StorageError.Code?] = Task.detached {
                (0..<20).map { index in storageError { try db.createColumnFamily("f\(round)-\(index)") }?.code }
            }.value
            async let closer: Void = Task.detached {
                while !db.isClosed { _ = try? db.close() }
            }.value
            let codes = await creator
            await closer
            #expect(codes.compactMap { $0 }.allSatisfy { $0 == .closed }, "round \(round): \(codes)")
            #expect(db.columnFamilyNames.isEmpty, "a closed database lists no families")
        }
    }

    @Test func defaultFamilyCannotBeDropped() throws {
        let directory = TemporaryDirectory()
        let db = try Database.open(at: directory.path, options: testOptions())
        let error = storageError { try db.dropColumnFamily(db.defaultColumnFamily) }
        #expect(error?.code == .invalidArgument)
        try db.put("k".bytes, "v".bytes)
    }

    @Test func missingFamiliesAreAnErrorWhenCreationIsOff() throws {
        let directory = TemporaryDirectory()
        _ = try Database.open(at: directory.path, options: testOptions())
        let error = storageError {
            _ = try Database.open(at: directory.path, options: testOptions { $0.createMissingColumnFamilies = false },
                                  columnFamilies: ["later": .init()])
        }
        #expect(error?.code == .columnFamilyNotFound)
    }
}
