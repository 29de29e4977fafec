#if canImport(Glibc)
import Glibc
#endif

/// Byte-string order (RocksDB's default comparator) with `memcmp`: the generic
/// `lexicographicallyPrecedes` is several times slower, and the indexer and the executor
/// sort and compare keys by the million.
@inline(__always)
func compareBytes(_ left: [UInt8], _ right: [UInt8]) -> Int {
    let common = min(left.count, right.count)
    let order = left.withUnsafeBufferPointer { l in
        right.withUnsafeBufferPointer { r in common == 0 ? 0 : memcmp(l.baseAddress!, r.baseAddress!, common) }
    }
    if order != 0 { return order < 0 ? -1 : 1 }
    return left.count == right.count ? 0 : (left.count < right.count ? -1 : 1)
}

@inline(__always)
func bytesPrecede(_ left: [UInt8], _ right: [UInt8]) -> Bool { compareBytes(left, right) < 0 }
