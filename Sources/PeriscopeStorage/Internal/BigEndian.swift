/// Fixed-width big-endian integers, the layout stores in this package use for indexes and
/// counters in keys and values (byte order is numeric order). Shared by the Raft log store,
/// the simulator and the shard.
package func bigEndian(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> UInt64(56 - 8 * $0)) } }

/// The integer of up to 8 big-endian bytes; callers check the length.
package func readBigEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 { bytes.reduce(0) { $0 << 8 | UInt64($1) } }
