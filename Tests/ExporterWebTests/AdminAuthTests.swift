import ExporterWeb
import Platform
import Testing

@Suite struct AdminAuthTests {
    /// The token comparison takes the same time whatever part of the token is right.
    @Test func tokenComparisonTimeDoesNotDependOnHowMuchIsRight() {
        let token = Array("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".utf8)
        let auth = AdminAuth(token: token)
        let wrong = "Bearer " + String(repeating: "x", count: token.count)
        let prefix = "Bearer " + String(decoding: token.dropLast(), as: UTF8.self) + "x"
        func time(_ header: String) -> UInt64 {
            let start = monotonicNanoseconds()
            var allowed = 0
            for _ in 0..<20_000 where auth.allows(header) { allowed += 1 }
            precondition(allowed == 0)
            return monotonicNanoseconds() - start
        }
        var wrongTimes: [UInt64] = []
        var prefixTimes: [UInt64] = []
        for _ in 0..<15 {
            wrongTimes.append(time(wrong))
            prefixTimes.append(time(prefix))
        }
        let a = Double(wrongTimes.sorted()[7])
        let b = Double(prefixTimes.sorted()[7])
        #expect(max(a, b) / min(a, b) < 1.5, "median \(a) ns vs \(b) ns per 20000 checks")
    }
}
