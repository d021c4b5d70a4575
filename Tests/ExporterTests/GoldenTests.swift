import Exporter
import Exposition
import Foundation
import Testing

/// Every fixture tree's exposition, byte for byte. `UPDATE_GOLDEN=1 swift test --filter GoldenTests`
/// (or `make update-golden`) rewrites them; review the diff before committing.
@Suite struct GoldenTests {
    /// (tree, config file or nil for the built-in configuration).
    static let cases: [(String, String?)] = {
        var cases: [(String, String?)] = Fixtures.treeNames().map { ($0, nil) }
        for tree in ["01-synth-wakeup-lat-exact", "02-synth-wakeup-lat-log2", "08-sched-switch-onmax-save",
                     "12-kmalloc-callsite-sym", "14-kmalloc-execname", "29-sys-enter-syscall", "34-sched-switch-stacktrace"] {
            cases.append((tree, "corpus-mappings.yml"))
        }
        return cases
    }()

    static func goldenName(_ tree: String, _ config: String?) -> String {
        config.map { "\(tree)@\(($0 as NSString).deletingPathExtension).prom" } ?? "\(tree).prom"
    }

    @Test(arguments: cases.map { $0.0 + "|" + ($0.1 ?? "") })
    func exposition(_ pair: String) throws {
        let parts = pair.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        let (tree, configName) = (parts[0], parts[1].isEmpty ? nil : parts[1])
        let config = try configName.map { try Fixtures.config($0) } ?? DefaultConfig.load()
        let actual = Fixtures.exposition(tree: tree, config: config)
        let url = Fixtures.golden.appendingPathComponent(Self.goldenName(tree, configName))
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: Fixtures.golden, withIntermediateDirectories: true)
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        if actual != expected {
            let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
            let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let first = Array(zip(a, e)).firstIndex { $0 != $1 } ?? min(a.count, e.count)
            Issue.record("""
                \(url.lastPathComponent) differs at line \(first + 1):
                  expected: \(first < e.count ? String(e[first]) : "<end>")
                  actual:   \(first < a.count ? String(a[first]) : "<end>")
                (run `make update-golden` and review the diff if the change is intended)
                """)
        }
    }

    @Test func everyGoldenHasAFixture() throws {
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" { return }
        let expected = Set(Self.cases.map { Self.goldenName($0.0, $0.1) })
        let present = Set(try FileManager.default.contentsOfDirectory(atPath: Fixtures.golden.path).filter { $0.hasSuffix(".prom") })
        #expect(present == expected)
    }
}
