import Foundation
import Testing

/// `POST /-/reload` behind `--web.enable-lifecycle`, on the real daemon: the reload SIGHUP runs,
/// answered with its outcome.
extension DaemonTests {
    @Test("POST /-/reload with --web.enable-lifecycle: 200 when taken, 500 naming the error when rejected; 403 without the flag")
    func lifecycleReload() throws {
        let d = try Daemon(["--web.enable-lifecycle"], config: Self.configWithSet("first", refresh: "1h"), refreshInterval: nil)
        defer { _ = d.stop() }
        try d.waitReady()
        func setNames() throws -> String { try get(d.port, "/api/v1/trigger-sets", token: "s3cret-admin-token").text }
        let file = d.dir.appendingPathComponent("config.yml")

        try d.withInstance(Self.configWithSet("second", refresh: "1h")).write(to: file, atomically: true, encoding: .utf8)
        let taken = try get(d.port, "/-/reload", method: "POST")
        #expect(taken.status == 200 && taken.text == "Reloaded\n", "\(taken.text)")
        #expect(try setNames().contains("\"name\":\"second\""), "applied before the answer")
        #expect(d.logText.contains("reload requested over HTTP"))

        try d.withInstance(Self.configWithSet("third", refresh: "1h").replacingOccurrences(of: "enabled: false", with: "enabled: perhaps"))
            .write(to: file, atomically: true, encoding: .utf8)
        let rejected = try get(d.port, "/-/reload", method: "PUT")
        #expect(rejected.status == 500)
        #expect(rejected.text.hasPrefix("Reload rejected; the running configuration stays: "), "\(rejected.text)")
        #expect(rejected.text.contains("discovery.enabled"), "names the field: \(rejected.text)")
        #expect(try setNames().contains("\"name\":\"second\""))
        let metrics = try get(d.port, "/metrics").text
        #expect(metrics.contains("ftrace_exporter_config_last_reload_successful 0\n"))

        #expect(try get(d.port, "/-/reload").status == 405, "GET does not reload")

        let without = try Daemon()
        defer { _ = without.stop() }
        try without.waitReady()
        let refused = try get(without.port, "/-/reload", method: "POST")
        #expect(refused.status == 403)
        #expect(refused.text.contains("--web.enable-lifecycle"))
    }
}
