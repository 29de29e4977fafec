/// The entries of a range, as a Swift sequence. Handed to the body of `Database.scan`.
///
/// Each iteration opens its own cursor, so the sequence can be walked more than once. A
/// failure ends the walk and is remembered; `Database.scan` throws it when `body` returns.
public final class ScanEntries: Sequence {
    private let database: Database
    private let columnFamily: ColumnFamily?
    private let range: KeyRange
    private let direction: ScanDirection
    private let options: ReadOptions
    private(set) var failure: StorageError?

    init(database: Database, columnFamily: ColumnFamily?, range: KeyRange, direction: ScanDirection, options: ReadOptions) {
        self.database = database
        self.columnFamily = columnFamily
        self.range = range
        self.direction = direction
        self.options = options
    }

    public struct Iterator: IteratorProtocol {
        private let entries: ScanEntries
        private let cursor: Cursor?
        private var started = false

        init(entries: ScanEntries, cursor: Cursor?) {
            self.entries = entries
            self.cursor = cursor
        }

        public mutating func next() -> KeyValue? {
            guard let cursor else { return nil }
            do {
                let positioned: Bool
                if !started {
                    started = true
                    positioned = try entries.direction == .forward ? cursor.seekToFirst() : cursor.seekToLast()
                } else if cursor.isValid {
                    positioned = try entries.direction == .forward ? cursor.next() : cursor.previous()
                } else {
                    positioned = false
                }
                return positioned ? cursor.entry : nil
            } catch {
                entries.record(error)
                return nil
            }
        }
    }

    public func makeIterator() -> Iterator {
        do {
            let cursor = try database.makeCursor(in: columnFamily, range: range, options: options)
            return Iterator(entries: self, cursor: cursor)
        } catch {
            record(error)
            return Iterator(entries: self, cursor: nil)
        }
    }

    private func record(_ error: any Error) {
        guard failure == nil else { return }
        failure = error as? StorageError
            ?? StorageError(.unknown, operation: "scan", path: database.path, message: "\(error)")
    }
}
