import Foundation
import PeriscopeModel

extension Timestamp {
    /// The system's wall clock, for the migration's shells (PeriscopeModel reads no clock).
    public static var wallClockNow: Timestamp { Timestamp(nanosecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1e9)) }
}
