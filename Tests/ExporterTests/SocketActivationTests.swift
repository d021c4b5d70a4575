import Foundation
import Testing
import TestKit

/// `--web.systemd-socket`: the exporter serves on the socket systemd passes.
@Suite(.serialized) struct SocketActivationTests {
    var tree: String { Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/tracefs/default-config").path }

    /// What systemd does for a socket unit, done by python3: a listening socket as
    /// descriptor 3, `LISTEN_FDS=1` and `LISTEN_PID` naming the process, which then execs the
    /// exporter in place.
    static let activator = """
        import os, socket, sys
        s = socket.socket()
        s.bind(("127.0.0.1", int(sys.argv[1])))
        s.listen(64)
        if s.fileno() != 3:
            os.dup2(s.fileno(), 3)
        os.set_inheritable(3, True)
        os.environ["LISTEN_PID"] = str(os.getpid())
        os.environ["LISTEN_FDS"] = "1"
        os.execv(sys.argv[2], sys.argv[2:])
        """

    @Test("served on the socket systemd passes, and stopped by SIGTERM")
    func servesOnTheActivatedSocket() throws {
        let binary = try #require(CommandLineTests.binary())
        let port = freePort()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("activated-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", Self.activator, String(port), binary.path, "--web.systemd-socket", "--path.tracefs", tree,
                             "--refresh.interval", "1h"]
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var metrics: CurlResult?
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let answer = try curl(["--max-time", "5", "http://127.0.0.1:\(port)/metrics"])
            if answer.ok {
                metrics = answer
                break
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let logText = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(metrics?.body.contains("ftrace_exporter_build_info") == true, "\(logText)")
        #expect(logText.contains("systemd socket"), "the listening line says where the socket came from: \(logText)")
        #expect(logText.contains("address=127.0.0.1:\(port)"), "\(logText)")
        #expect(process.terminationStatus == 0, "SIGTERM exits 0: \(logText)")
    }

    @Test("without the sockets systemd passes, the exporter exits 1 saying so")
    func withoutSocketsItExits1() throws {
        let run = try CommandLineTests().run(["--web.systemd-socket", "--path.tracefs", tree])
        #expect(run.status == 1)
        #expect(run.stderr.contains("LISTEN_PID and LISTEN_FDS are not set"), "\(run.stderr)")
    }
}
