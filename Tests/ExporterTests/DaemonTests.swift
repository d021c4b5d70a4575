import Exporter
import Foundation
import Platform
import Testing
import TestKit

/// The real daemon on a loopback port, over this host's real tracefs (which has no hist
/// triggers): what an operator with curl and a Prometheus server see.
@Suite(.serialized) struct DaemonTests {
    final class Daemon {
        let process = Process()
        let log: URL
        let dir: URL
        var port = 0
        var adminPort: Int?
        let tracefs: ScratchTraceFS
        /// Each daemon has a tracefs instance of its own: one exporter may hold an instance.
        let instance: String

        /// `refreshInterval`: the `--refresh.interval` flag, which overrides the configuration's.
        init(_ extraArguments: [String] = [], token: String? = "s3cret-admin-token", tokenMode: Int = 0o600, tokenOwner: uid_t? = nil,
             separateAdmin: Bool = false, config: String? = nil, refreshInterval: String? = "1h", instance: String? = nil) throws {
            self.instance = instance ?? DaemonTests.uniqueInstance()
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("daemon-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            log = dir.appendingPathComponent("exporter.log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            tracefs = try ScratchTraceFS()
            do {
                try start(extraArguments, token: token, tokenMode: tokenMode, tokenOwner: tokenOwner, separateAdmin: separateAdmin,
                          config: config, refreshInterval: refreshInterval)
            } catch {
                tracefs.release()
                throw error
            }
        }

        private func start(_ extraArguments: [String], token: String?, tokenMode: Int, tokenOwner: uid_t?, separateAdmin: Bool,
                           config: String?, refreshInterval: String?) throws {
            var arguments = ["--web.listen-address", "127.0.0.1:0", "--path.tracefs", tracefs.path]
            if let refreshInterval { arguments += ["--refresh.interval", refreshInterval] }
            if let token {
                let file = dir.appendingPathComponent("token")
                try (token + "\n").write(to: file, atomically: true, encoding: .utf8)
                try FileManager.default.setAttributes([.posixPermissions: tokenMode], ofItemAtPath: file.path)
                if let tokenOwner { #expect(chown(file.path, tokenOwner, gid_t(tokenOwner)) == 0) }
                arguments += ["--admin.token-file", file.path]
            }
            if separateAdmin { arguments += ["--admin.listen-address", "127.0.0.1:0"] }
            let file = dir.appendingPathComponent("config.yml")
            try withInstance(config ?? DefaultConfig.yaml).write(to: file, atomically: true, encoding: .utf8)
            arguments += ["--config.file", file.path]
            let binary = try #require(CommandLineTests.binary())
            process.executableURL = binary
            process.arguments = arguments + extraArguments
            process.standardError = try FileHandle(forWritingTo: log)
            process.standardOutput = FileHandle.nullDevice
            try process.run()
        }

        var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

        /// `config` with this daemon's instance: the built-in configuration's replaced, or a
        /// `tracefs` section added to one that has none.
        func withInstance(_ config: String) -> String {
            DaemonTests.configuration(config, instance: instance)
        }

        /// Waits for the listening lines and `ready`.
        func waitReady(timeout: Double = 20) throws {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                let text = logText
                let ports = text.split(separator: "\n").filter { $0.contains("msg=listening") }.compactMap { line -> (Int, Bool)? in
                    guard let r = line.range(of: #"address=127\.0\.0\.1:(\d+)"#, options: .regularExpression) else { return nil }
                    return (Int(line[r].split(separator: ":").last!)!, line.contains("serves=\"admin API\""))
                }
                if let main = ports.first(where: { !$0.1 }) { port = main.0 }
                if let admin = ports.first(where: { $0.1 }) { adminPort = admin.0 }
                if port != 0 && text.contains("msg=ready") { return }
                if !process.isRunning { break }
                Thread.sleep(forTimeInterval: 0.05)
            }
            throw Failure("daemon not ready:\n\(logText)")
        }

        func stop() -> Int32 {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
            tracefs.release()
            try? FileManager.default.removeItem(at: dir)
            return process.terminationStatus
        }
    }

    struct Failure: Error, CustomStringConvertible { var description: String; init(_ d: String) { description = d } }

    struct Response {
        var status: Int
        var headers: String
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    static func curl(_ arguments: [String]) throws -> (Int32, String, Data) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = ["-s", "--max-time", "10"] + arguments
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, errText, data)
    }

    func get(_ port: Int, _ path: String, method: String = "GET", token: String? = nil, headers: [String] = []) throws -> Response {
        var args = ["-D", "-", "-X", method, "http://127.0.0.1:\(port)\(path)"]
        if method == "HEAD" { args = ["-I", "http://127.0.0.1:\(port)\(path)"] }
        if let token { args += ["-H", "Authorization: Bearer \(token)"] }
        for h in headers { args += ["-H", h] }
        let (_, _, data) = try Self.curl(args)
        guard let split = data.range(of: Data("\r\n\r\n".utf8)) else { throw Failure("no response") }
        let head = String(decoding: data[..<split.lowerBound], as: UTF8.self)
        let status = Int(head.split(separator: " ")[1]) ?? 0
        return Response(status: status, headers: head, body: data[split.upperBound...])
    }

    @Test func servesMetricsAndAnswersAdminOnAKernelWithoutHistTriggers() throws {
        let d = try Daemon()
        let instancesBefore = try FileManager.default.contentsOfDirectory(atPath: d.tracefs.path + "/instances").sorted()
        defer {
            #expect(d.stop() == 0, "SIGTERM exits 0")
        }
        try d.waitReady()

        let metrics = try get(d.port, "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.headers.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"))
        #expect(metrics.text.contains("ftrace_kernel_feature{feature=\"hist_triggers\"} 0"))
        #expect(metrics.text.contains("ftrace_exporter_build_info{version="))
        // A sanitizer's allocator reports nothing through mallinfo2: the daemon, built alike,
        // then leaves the heap families out rather than show zeros.
        let glibcHeap = Heap.statistics() != nil
        for heap in ["ftrace_exporter_heap_in_use_bytes ", "ftrace_exporter_heap_held_bytes "] {
            let value = metrics.text.split(separator: "\n").first { $0.hasPrefix(heap) }.flatMap { Double($0.split(separator: " ")[1]) }
            if glibcHeap { #expect((value ?? 0) > 0, "\(heap)") } else { #expect(value == nil, "\(heap)") }
        }
        #expect(metrics.text.contains("values are cached") || metrics.text.contains("Values are cached"))
        try PromtoolCheck.passes(metrics.text)

        let status = try get(d.port, "/api/v1/status", token: "s3cret-admin-token")
        #expect(status.status == 200)
        #expect(status.text.contains("\"hist_triggers\":false"))
        #expect(status.text.contains("CONFIG_HIST_TRIGGERS"))

        let install = try get(d.port, "/api/v1/trigger-sets/wakeup_latency/install", method: "POST", token: "s3cret-admin-token")
        #expect(install.status == 503)
        #expect(install.text.contains("CONFIG_HIST_TRIGGERS"))

        for token in [nil, "wrong", "s3cre", "s3cret-admin-token2"] as [String?] {
            #expect(try get(d.port, "/api/v1/status", token: token).status == 401)
        }
        #expect(try get(d.port, "/api/v1/trigger-sets/nope/install", method: "POST", token: "s3cret-admin-token").status == 404)
        #expect(try get(d.port, "/nope").status == 404)
        let wrongMethod = try get(d.port, "/metrics", method: "DELETE")
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.headers.contains("Allow: GET, HEAD"))
        #expect(d.logText.contains("msg=\"admin request\" action=install code=503 remote=127.0.0.1:"))
        #expect(!d.logText.contains("cannot read hist file"), "no hist file exists to read: the start said so once")
        let instancesAfter = try FileManager.default.contentsOfDirectory(atPath: d.tracefs.path + "/instances").sorted()
        // Other suites' daemons come and go meanwhile, each in an instance of its own.
        #expect(instancesAfter.contains(d.instance) && !instancesBefore.contains(d.instance), "the exporter's instance is made at start")
        #expect(d.stop() == 0)
        let look = try ScratchTraceFS()
        defer { look.release() }
        let instancesAtStop = try FileManager.default.contentsOfDirectory(atPath: look.path + "/instances").sorted()
        #expect(!instancesAtStop.contains(d.instance), "the instance goes at stop")
    }

    @Test("a tree of captured files is served but never written: admin actions are refused and SIGTERM leaves it as it was")
    func capturedTreeIsNeverWritten() throws {
        let tree = FileManager.default.temporaryDirectory.appendingPathComponent("captured-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Fixtures.trees.appendingPathComponent("default-config"), to: tree)
        defer { try? FileManager.default.removeItem(at: tree) }
        func contents() throws -> [String: Data] {
            var files: [String: Data] = [:]
            let walker = try #require(FileManager.default.enumerator(atPath: tree.path))
            for case let path as String in walker where !path.hasSuffix("/") {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: tree.path + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
                    files[path] = try Data(contentsOf: tree.appendingPathComponent(path))
                }
            }
            return files
        }
        let before = try contents()
        let d = try Daemon(["--path.tracefs", tree.path], instance: "ftrace_exporter")
        defer { _ = d.stop() }
        try d.waitReady()
        #expect(d.logText.contains("reading captured files, not the kernel"), "\(d.logText)")
        #expect(!d.logText.contains("adopted"))
        for action in ["remove", "install"] {
            let r = try get(d.port, "/api/v1/trigger-sets/wakeup_latency/\(action)", method: "POST", token: "s3cret-admin-token")
            #expect(r.status == 503, "\(action): \(r.text)")
            #expect(r.text.contains("not a tracefs mount"), "\(action): \(r.text)")
        }
        #expect(try get(d.port, "/metrics").text.contains("ftrace_wakeup_latency_seconds_bucket"), "the captured tables are served")
        #expect(d.stop() == 0)
        #expect(try contents() == before, "nothing in the tree changed")
    }

    @Test("a tracefs this process cannot write is read: the daemon serves, and installs answer 503 with the reason")
    func readOnlyTraceFSIsReadOnly() throws {
        let readOnly = try ScratchTraceFS(readOnly: true)
        defer { readOnly.release() }
        let d = try Daemon(["--path.tracefs", readOnly.path])
        defer { _ = d.stop() }
        try d.waitReady()
        #expect(d.logText.contains("reading tracefs only: nothing will be installed or removed"), "\(d.logText)")
        let install = try get(d.port, "/api/v1/trigger-sets/wakeup_latency/install", method: "POST", token: "s3cret-admin-token")
        #expect(install.status == 503)
        #expect(install.text.contains("EROFS"), "\(install.text)")
        #expect(try get(d.port, "/metrics").status == 200)
        #expect(d.stop() == 0)
    }

    @Test("a listen address with a host name is resolved, as the Prometheus exporters do")
    func listenAddressHostName() throws {
        let d = try Daemon(["--web.listen-address", "localhost:0"])
        defer { _ = d.stop() }
        try d.waitReady()
        #expect(try get(d.port, "/-/healthy").status == 200)
    }

    /// Prometheus sends its timeout with every scrape; the header reaches the scrape through the
    /// HTTP server, and one that is not a number of seconds is refused with the reason.
    @Test("refresh on scrape: X-Prometheus-Scrape-Timeout-Seconds through the server")
    func scrapeTimeoutHeader() throws {
        let d = try Daemon(["--refresh.interval", "0", "--web.scrape-timeout-offset", "250ms"])
        defer { _ = d.stop() }
        try d.waitReady()
        let timed = try get(d.port, "/metrics", headers: ["X-Prometheus-Scrape-Timeout-Seconds: 10"])
        #expect(timed.status == 200 && timed.text.contains("ftrace_exporter_scrape_deadline_misses_total 0"))
        let bad = try get(d.port, "/metrics", headers: ["X-Prometheus-Scrape-Timeout-Seconds: ten"])
        #expect(bad.status == 400)
        #expect(bad.text == "X-Prometheus-Scrape-Timeout-Seconds must be a positive number of seconds (got 'ten')\n")
    }

    @Test("--web.listen-address repeated: the exporter serves on every address")
    func severalListenAddresses() throws {
        let d = try Daemon(["--web.listen-address", "127.0.0.1:0"])
        defer { _ = d.stop() }
        try d.waitReady()
        let ports = d.logText.split(separator: "\n").filter { $0.contains("msg=listening") }.compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("address=") }.flatMap { Int($0.split(separator: ":").last ?? "") }
        }
        #expect(ports.count == 2 && Set(ports).count == 2, "two listeners on ports of their own: \(ports)")
        for port in ports {
            let metrics = try get(port, "/metrics")
            #expect(metrics.status == 200 && metrics.text.contains("ftrace_exporter_build_info"), "port \(port)")
        }
    }

    @Test("one exporter per instance: a second is refused naming the first, another instance is fine, a killed holder leaves no lock")
    func oneExporterPerInstance() throws {
        let first = try Daemon()
        defer { _ = first.stop() }
        try first.waitReady()

        let second = try Daemon(instance: first.instance)
        second.process.waitUntilExit()
        #expect(second.process.terminationStatus == 1)
        #expect(second.logText.contains("is in use by another exporter, process \(first.process.processIdentifier)"), "\(second.logText)")
        #expect(second.logText.contains("its own instance"))
        _ = second.stop()

        let other = try Daemon()
        try other.waitReady()
        #expect(other.stop() == 0)

        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        let successor = try Daemon(instance: first.instance)
        try successor.waitReady()
        #expect(successor.stop() == 0)
    }

    @Test func httpBehaviour() throws {
        let d = try Daemon()
        defer { _ = d.stop() }
        try d.waitReady()
        let plain = try get(d.port, "/metrics")

        let head = try get(d.port, "/metrics", method: "HEAD")
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        #expect(head.headers.contains("Content-Length: \(plain.body.count)"))

        let (_, _, gz) = try Self.curl(["--compressed", "-H", "Accept-Encoding: gzip", "http://127.0.0.1:\(d.port)/metrics"])
        #expect(gz == plain.body, "the gzip body inflates to the plain one (same snapshot)")

        let om = try get(d.port, "/metrics", headers: ["Accept: application/openmetrics-text; version=1.0.0"])
        #expect(om.headers.contains("Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8"))
        #expect(om.text.hasSuffix("# EOF\n"))

        // Keep-alive: curl reuses one connection for two URLs.
        let (_, verbose, _) = try Self.curl(["-v", "http://127.0.0.1:\(d.port)/-/healthy", "http://127.0.0.1:\(d.port)/-/ready"])
        #expect(verbose.contains("Re-using existing connection") || verbose.contains("Reusing existing connection"), "\(verbose)")

        // A large request body is refused before the handler.
        // curl waits for the answer to the headers before it sends the body: the 413 comes before
        // a megabyte the server will not read, instead of racing it (curl then saw a reset, 000).
        let big = d.dir.appendingPathComponent("big")
        try Data(count: 1 << 20).write(to: big)
        let (_, _, refused) = try Self.curl(["-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "--data-binary", "@\(big.path)", "-H", "Expect: 100-continue",
                                             "-H", "Authorization: Bearer s3cret-admin-token", "http://127.0.0.1:\(d.port)/api/v1/remove-all"])
        #expect(String(decoding: refused, as: UTF8.self) == "413")
    }

    @Test func manyClientsAtOnce() throws {
        let d = try Daemon()
        defer { _ = d.stop() }
        try d.waitReady()
        let urls = (0..<200).map { _ in "http://127.0.0.1:\(d.port)/metrics" }
        let (_, _, codes) = try Self.curl(["--parallel", "--parallel-max", "32", "-o", "/dev/null", "-w", "%{http_code}\n"] + urls.flatMap { [$0, "-o", "/dev/null"] })
        let lines = String(decoding: codes, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 200)
        #expect(lines.allSatisfy { $0 == "200" })
    }

    @Test func separateAdminListener() throws {
        let d = try Daemon(separateAdmin: true)
        defer { _ = d.stop() }
        try d.waitReady()
        let adminPort = try #require(d.adminPort)
        #expect(try get(d.port, "/api/v1/status", token: "s3cret-admin-token").status == 404)
        #expect(try get(adminPort, "/api/v1/status", token: "s3cret-admin-token").status == 200)
        #expect(try get(adminPort, "/metrics").status == 404)
    }

    @Test("a token file others can read, or another user owns, stops the start with exit 2 and says how to fix it",
          arguments: [(0o644, nil, "chmod 600"), (0o600, 65534, "chown")] as [(Int, uid_t?, String)])
    func refusesAnUnsafeTokenFile(mode: Int, owner: uid_t?, advice: String) throws {
        let d = try Daemon(tokenMode: mode, tokenOwner: owner)
        d.process.waitUntilExit()
        #expect(d.process.terminationStatus == 2)
        #expect(d.logText.contains(advice), "\(d.logText)")
        _ = d.stop()
    }

    /// Its log unwritable: standard error on a full device (every write fails with ENOSPC), or
    /// closed when the process starts (fd 2 must not end up as a socket that log lines reach).
    @Test("with its log unwritable the daemon serves, and stops cleanly on SIGTERM", arguments: ["2>/dev/full", "2>&-"])
    func unwritableLog(redirection: String) throws {
        let port = freePort()
        let tracefs = try ScratchTraceFS()
        defer { tracefs.release() }
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString).yml")
        try Self.configuration(DefaultConfig.yaml, instance: Self.uniqueInstance()).write(to: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: config) }
        let binary = try #require(CommandLineTests.binary())
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [
            "-c", "exec \"$0\" \"$@\" \(redirection)", binary.path,
            "--web.listen-address", "127.0.0.1:\(port)", "--path.tracefs", tracefs.path, "--refresh.interval", "1h",
            "--log.level", "debug", "--config.file", config.path,
        ]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let deadline = Date().addingTimeInterval(20)
        var ready = false
        while Date() < deadline && process.isRunning && !ready {
            ready = (try? get(port, "/-/ready").status) == 200
            if !ready { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(ready)
        for _ in 0..<20 {
            let metrics = try get(port, "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.text.hasPrefix("# HELP "))
            #expect(!metrics.text.contains("level="), "a log line reached a client")
            #expect(try get(port, "/no-such-page").status == 404)
        }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
    }

    static func uniqueInstance() -> String { "ftrace_exporter_test_\(UUID().uuidString.prefix(8).lowercased())" }

    static func configuration(_ config: String, instance: String) -> String {
        if config.contains("instance: ftrace_exporter ") {
            return config.replacingOccurrences(of: "instance: ftrace_exporter ", with: "instance: \(instance) ")
        }
        precondition(!config.contains("tracefs:"), "a test configuration names its own tracefs section")
        return "tracefs:\n  instance: \(instance)\n" + config
    }

    static func configWithSet(_ name: String, refresh: String) -> String {
        """
        refresh_interval: \(refresh)
        discovery:
          enabled: false
        trigger_sets:
          - name: \(name)
            description: allocations by call site
            triggers:
              - event: kmem/kmalloc
                command: "hist:keys=call_site.sym:vals=hitcount,bytes_req"

        """
    }

    @Test("SIGHUP: an invalid configuration is rejected and the running one stays in effect; a valid one applies at once")
    func reloadKeepsTheOldConfigWhenTheNewOneIsInvalid() throws {
        let d = try Daemon(config: Self.configWithSet("first", refresh: "1h"), refreshInterval: nil)
        defer { _ = d.stop() }
        try d.waitReady()
        func setNames() throws -> String { try get(d.port, "/api/v1/trigger-sets", token: "s3cret-admin-token").text }
        func status() throws -> String { try get(d.port, "/api/v1/status", token: "s3cret-admin-token").text }
        func hangUp(waitingFor text: String, occurrence: Int) {
            kill(d.process.processIdentifier, SIGHUP)
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline && d.logText.components(separatedBy: text).count - 1 < occurrence { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(try setNames().contains("\"name\":\"first\""))

        try d.withInstance(Self.configWithSet("second", refresh: "2s").replacingOccurrences(of: "enabled: false", with: "enabled: perhaps"))
            .write(to: d.dir.appendingPathComponent("config.yml"), atomically: true, encoding: .utf8)
        func scraped(_ name: String) throws -> Double? {
            let line = try get(d.port, "/metrics").text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            return line.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        #expect(try scraped("ftrace_exporter_config_last_reload_successful") == 1)
        let loadedAtStart = try #require(try scraped("ftrace_exporter_config_last_reload_success_timestamp_seconds"))
        hangUp(waitingFor: "configuration reload rejected", occurrence: 1)
        #expect(d.logText.contains("configuration reload rejected"))
        #expect(d.logText.contains("discovery.enabled"))
        #expect(try scraped("ftrace_exporter_config_last_reload_successful") == 0, "a rejected reload shows at the next scrape")
        #expect(try scraped("ftrace_exporter_config_last_reload_success_timestamp_seconds") == loadedAtStart)
        #expect(try setNames().contains("\"name\":\"first\""), "the old configuration stays in effect")
        #expect(!(try setNames().contains("\"name\":\"second\"")))
        #expect(try status().contains("\"refresh_interval_seconds\":3600"))

        try d.withInstance(Self.configWithSet("second", refresh: "2s")).write(to: d.dir.appendingPathComponent("config.yml"), atomically: true, encoding: .utf8)
        hangUp(waitingFor: "configuration reloaded", occurrence: 1)
        #expect(d.logText.contains("configuration reloaded"))
        #expect(try scraped("ftrace_exporter_config_last_reload_successful") == 1)
        #expect(try scraped("ftrace_exporter_config_last_reload_success_timestamp_seconds") ?? 0 > loadedAtStart)
        #expect(try setNames().contains("\"name\":\"second\""))
        #expect(!(try setNames().contains("\"name\":\"first\"")))
        #expect(try status().contains("\"refresh_interval_seconds\":2"))
        let metrics = try get(d.port, "/metrics").text
        #expect(metrics.contains("taken every 2s"), "the snapshot was rebuilt with the new interval")
        #expect(metrics.contains("ftrace_exporter_trigger_set_state{set=\"second\""))
        // The new 2 s timer runs (the old one was an hour).
        func refreshes() throws -> Double {
            let line = try get(d.port, "/metrics").text.split(separator: "\n").first { $0.hasPrefix("ftrace_exporter_refreshes_total ") }
            return Double(line?.split(separator: " ").last ?? "") ?? -1
        }
        let before = try refreshes()
        Thread.sleep(forTimeInterval: 4.5)
        #expect(try refreshes() >= before + 1)
    }
}

enum PromtoolCheck {
    static func passes(_ exposition: String) throws {
        guard let promtool = PromtoolTests.promtool() else {
            #expect(ProcessInfo.processInfo.environment["CI"] == nil, "promtool is required in CI")
            return
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: promtool)
        p.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = output
        try p.run()
        input.fileHandleForWriting.write(Data(exposition.utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0 && text.isEmpty, "promtool: \(text)")
    }
}

/// A real Prometheus server scraping the real daemon.
@Suite(.serialized) struct PrometheusScrapeTests {
    @Test func prometheusScrapesTheExporter() throws {
        guard PrometheusServer.isInstalled else {
            #expect(ProcessInfo.processInfo.environment["CI"] == nil, "prometheus is required in CI")
            return
        }
        let d = try DaemonTests.Daemon()
        defer { _ = d.stop() }
        try d.waitReady()
        let prometheus = try PrometheusServer(configuration: """
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            scrape_configs:
              - job_name: ftrace_exporter
                static_configs: [{targets: ["127.0.0.1:\(d.port)"]}]
            """, directory: d.dir.appendingPathComponent("prometheus"))
        defer { prometheus.stop() }
        var up = ""
        var families = ""
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 0.5)
            up = try prometheus.query("up")
            if up.contains("\"1\"") {
                families = try prometheus.query("ftrace_kernel_feature")
                break
            }
        }
        #expect(up.contains("\"value\":[") && up.contains("\"1\"]"), "up: \(up)")
        #expect(families.contains("hist_triggers"), "\(families)")
    }
}
