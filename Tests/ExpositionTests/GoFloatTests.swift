import Testing
@testable import Exposition

/// Expected strings follow Go's `strconv.FormatFloat(v, 'g', -1, 64)`:
/// shortest round-trip digits, exponent form when the decimal exponent is
/// below -4 or at least 6, exponent written with a sign and two or more digits.
struct GoFloatTests {
    static let table: [(Double, String)] = [
        (0, "0"),
        (-0.0, "-0"),
        (1, "1"),
        (-1, "-1"),
        (2, "2"),
        (0.5, "0.5"),
        (0.1, "0.1"),
        (0.30000000000000004, "0.30000000000000004"),
        (1e-06, "1e-06"),
        (0.000128, "0.000128"),
        (1.024e-06, "1.024e-06"),
        (-3.5e-07, "-3.5e-07"),
        // Smallest exponent still written plainly is -4.
        (0.0001, "0.0001"),
        (0.00012345, "0.00012345"),
        (9.9999e-05, "9.9999e-05"),
        (0.00001, "1e-05"),
        // Largest exponent still written plainly is 5.
        (123456, "123456"),
        (999999, "999999"),
        (123456.7, "123456.7"),
        (999999.5, "999999.5"),
        (1e+06, "1e+06"),
        (1000000, "1e+06"),
        (1234567, "1.234567e+06"),
        (1500000, "1.5e+06"),
        (100000, "100000"),
        (1e20, "1e+20"),
        (1e21, "1e+21"),
        (1.2345e+20, "1.2345e+20"),
        (9007199254740991, "9.007199254740991e+15"),
        (9007199254740992, "9.007199254740992e+15"),
        (Double(UInt64.max), "1.8446744073709552e+19"),
        (Double(123_456_789_012_345_678 as Int64), "1.2345678901234568e+17"),
        (1e100, "1e+100"),
        (1e-100, "1e-100"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (2.2250738585072014e-308, "2.2250738585072014e-308"),
        (Double.leastNonzeroMagnitude, "5e-324"),
        (.infinity, "+Inf"),
        (-.infinity, "-Inf"),
        (.nan, "NaN"),
    ]

    @Test(arguments: table)
    func formatsLikeGo(value: Double, expected: String) {
        #expect(formatGoFloat(value) == expected)
    }

    @Test(arguments: table)
    func appendsTheSameBytes(value: Double, expected: String) {
        var buffer: [UInt8] = Array("x=".utf8)
        appendGoFloat(value, into: &buffer)
        #expect(buffer == Array("x=\(expected)".utf8))
    }

    @Test func powersOfTenSwitchToExponentAtTheGoThresholds() {
        let expected = [
            "1e-10", "1e-09", "1e-08", "1e-07", "1e-06", "1e-05", "0.0001", "0.001", "0.01", "0.1",
            "1", "10", "100", "1000", "10000", "100000", "1e+06", "1e+07", "1e+08", "1e+09", "1e+10",
        ]
        let produced = (-10...10).map { formatGoFloat(Double("1e\($0)")!) }
        #expect(produced == expected)
    }
}
