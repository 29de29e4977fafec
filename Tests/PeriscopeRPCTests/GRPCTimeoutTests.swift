@testable import PeriscopeRPC
import Testing

@Suite("RPC: grpc-timeout")
struct GRPCTimeoutTests {
    @Test func parsesEveryUnitAndClampsToTheLongest() {
        #expect(GRPCTimeout.parse("5S") == .seconds(5))
        #expect(GRPCTimeout.parse("250m") == .milliseconds(250))
        #expect(GRPCTimeout.parse("7u") == .microseconds(7))
        #expect(GRPCTimeout.parse("2M") == .seconds(120))
        #expect(GRPCTimeout.parse("99999999H") == GRPCTimeout.longest)
        #expect(GRPCTimeout.parse("99999999M") == GRPCTimeout.longest)
        for bad in ["", "S", "123456789S", "-1S", "5s", "5 S", "+5S"] {
            #expect(GRPCTimeout.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func formatRoundTripsAndNeverOverflows() {
        #expect(GRPCTimeout.format(.milliseconds(1_500)) == "1500000u")
        #expect(GRPCTimeout.format(.seconds(1_000)) == "1000000m")
        #expect(GRPCTimeout.format(.seconds(-3)) == "0n")
        // Far beyond Int64 nanoseconds: clamped to one year, spelled in the finest unit that fits.
        #expect(GRPCTimeout.format(.seconds(Int64.max)) == "31536000S")
        for duration: Duration in [.nanoseconds(1), .milliseconds(37), .seconds(86_400)] {
            let parsed = GRPCTimeout.parse(GRPCTimeout.format(duration))!
            #expect(parsed >= duration && parsed - duration < .milliseconds(1), "\(duration)")
        }
    }
}
