import Foundation
import Testing

@testable import HTTPServer

@Suite("Gzip")
struct GzipTests {
    static let inputs: [[UInt8]] = [
        [],
        Array("hello\n".utf8),
        Array(String(repeating: "ftrace_wakeup_latency_seconds_bucket{cpu=\"0\",le=\"0.001\"} 12345\n", count: 2000).utf8),
        // Incompressible: output may be larger than the input.
        pseudoRandomBytes(count: 100_000, seed: 0x9E37_79B9_7F4A_7C15),
    ]

    @Test("compress output is a gzip stream that gzip -dc inflates back", arguments: inputs, [Int32(0), 1, 6, 9, -1])
    func roundTrip(input: [UInt8], level: Int32) throws {
        let compressed = Gzip.compress(input, level: level)
        #expect(Array(compressed.prefix(3)) == [0x1F, 0x8B, 0x08])  // gzip magic, deflate
        let result = try run("/usr/bin/env", ["gzip", "-dc"], input: compressed)
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output == input)
    }

    @Test("compressible input shrinks")
    func shrinks() {
        let input = GzipTests.inputs[2]
        #expect(Gzip.compress(input).count < input.count / 10)
    }

    @Test("acceptsGzip honours codings and q-values", arguments: [
        (nil, false),
        ("", false),
        ("gzip", true),
        ("GZIP", true),
        ("x-gzip", true),
        ("gzip;q=0", false),
        ("gzip; q=0.0", false),
        ("gzip;q=0.001", true),
        ("br, gzip;q=0.5", true),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", true),
        ("deflate, br", false),
        ("*", true),
        ("*;q=0", false),
        ("gzip;q=0, *", false),
        ("*;q=0, gzip", true),
        ("identity", false),
        ("identity;q=1, *;q=0", false),
        ("gzip;q=bogus", false),
        (" gzip , deflate", true),
    ] as [(String?, Bool)])
    func accepts(header: String?, expected: Bool) {
        #expect(acceptsGzip(header) == expected, "\(header ?? "absent")")
    }
}
