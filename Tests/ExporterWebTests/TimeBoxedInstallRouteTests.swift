import Exporter
@testable import ExporterWeb
import HTTPServer
import Platform
import Testing
import TestKit

/// `POST /api/v1/trigger-sets/{name}/install?duration=`: what it accepts and refuses, and
/// where the deadline shows (the set's JSON, the status, the metric).
extension WebApplicationTests {
    func install(_ a: App, _ set: String, query: String?) -> HTTPResponse {
        var r = request("POST", "/api/v1/trigger-sets/\(set)/install")
        r.query = query
        return a.router.handle(r)
    }

    @Test("an install with ?duration= shows its deadline in the JSON, the status and the metric")
    func installWithADuration() throws {
        let a = try make()
        let response = install(a, "wakeup_latency", query: "duration=10m")
        #expect(response.status == 200, "\(body(response))")
        let json = body(response)
        #expect(json.contains("\"expires_at\":\"20"), "\(json)")
        #expect(json.contains("\"expires_at_timestamp_seconds\":"))
        #expect(json.contains("\"max_duration_seconds\":null"))
        let status = body(a.router.handle(request("GET", "/api/v1/status")))
        #expect(status.contains("{\"name\":\"wakeup_latency\",\"state\":\"installed\",\"expires_at\":\"20"), "\(status)")
        #expect(status.contains("{\"name\":\"syscall_latency\",\"state\":\"absent\",\"expires_at\":null,\"breaker_tripped_at\":null}"))
        let scrape = body(a.router.handle(request("GET", "/metrics", token: nil)))
        let line = scrape.split(separator: "\n").first { $0.hasPrefix("ftrace_exporter_trigger_set_expiry_timestamp_seconds{set=\"wakeup_latency\"} ") }
        let deadline = line.flatMap { Double($0.split(separator: " ")[1]) } ?? 0
        let now = wallClockSeconds()
        #expect(deadline > now + 590 && deadline <= now + 600, "\(line ?? "no expiry series")")
        #expect(scrape.contains("ftrace_exporter_trigger_set_expirations_total{set=\"syscall_latency\"} 0\n"), "counted from 0 for sets with a max_duration")

        let preset = body(a.router.handle(request("GET", "/api/v1/trigger-sets/syscall_latency")))
        #expect(preset.contains("\"max_duration_seconds\":3600"))
    }

    @Test("install parameters other than one valid duration are refused with 400, and nothing is written", arguments: [
        ("durration=10m", "install takes one parameter, duration (such as ?duration=10m); got 'durration'"),
        ("duration", "install takes one parameter, duration (such as ?duration=10m); got 'duration'"),
        ("duration=10m&duration=5m", "duration is given twice"),
        ("duration=ten", "'ten' is not a duration (such as 90s, 10m or 1h30m)"),
        ("duration=0", "an install's duration must be from 1s to 30d (got 0s)"),
        ("duration=2h", "trigger set 'syscall_latency' may be installed for at most 1h (its max_duration); asked for 2h"),
    ])
    func badInstallParameters(query: String, message: String) throws {
        let a = try make()
        let response = install(a, "syscall_latency", query: query)
        #expect(response.status == 400)
        #expect(body(response) == "{\"error\":\"\(message)\"}\n")
        #expect(a.fs.writes.isEmpty)
    }
}
