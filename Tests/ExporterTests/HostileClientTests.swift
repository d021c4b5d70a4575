@testable import Exporter
import Foundation
import Testing
import TestKit

/// Clients that do not play by the rules, against the real daemon on loopback.
@Suite(.serialized) struct HostileClientTests {
    /// A raw TCP connection to 127.0.0.1.
    final class RawConnection {
        let fd: Int32

        init?(port: Int) {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let ok = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            // No close here: deinit closes it (it runs for a failed initializer once every stored
            // property is set; a second close would close whatever reused the number).
            if ok != 0 { return nil }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { close(fd) }

        func send(_ text: String) { _ = text.withCString { Glibc.send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) } }

        /// Reads until the peer closes or `until` appears `count` times.
        func receive(until marker: String, count: Int = 1) -> String {
            var data = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 { break }
                data += buffer[0..<n]
                if String(decoding: data, as: UTF8.self).components(separatedBy: marker).count - 1 >= count { break }
            }
            return String(decoding: data, as: UTF8.self)
        }
    }

    @Test func aScrapeGetsThroughAThousandIdleConnections() throws {
        let d = try DaemonTests.Daemon()
        defer { _ = d.stop() }
        try d.waitReady()
        var idle: [RawConnection] = []
        for i in 0..<1000 {
            guard let c = RawConnection(port: d.port) else { break }
            // Slowloris: a request that never ends.
            c.send("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow-\(i): ")
            idle.append(c)
        }
        #expect(idle.count == 1000)
        let start = Date()
        let metrics = try DaemonTests.curl(["-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(d.port)/metrics"])
        let seconds = Date().timeIntervalSince(start)
        #expect(String(decoding: metrics.2, as: UTF8.self) == "200")
        #expect(seconds < timeBound(1.0), "scrape took \(seconds) s with 1000 idle connections open")
        idle.removeAll()
    }

    @Test func aFloodBeyondTheLimitIsRefusedAndTheServerStaysHealthy() throws {
        let d = try DaemonTests.Daemon(["--web.max-connections", "16"])
        defer { _ = d.stop() }
        try d.waitReady()
        var held: [RawConnection] = []
        for _ in 0..<64 { if let c = RawConnection(port: d.port) { held.append(c) } }
        // Connections over the limit are closed at once: a request on one gets nothing back.
        let extra = try #require(RawConnection(port: d.port))
        extra.send("GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(!extra.receive(until: "\r\n\r\n").hasPrefix("HTTP/1.1 200"))
        held.removeAll()
        Thread.sleep(forTimeInterval: 0.3)
        let after = try DaemonTests.curl(["-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(d.port)/-/healthy"])
        #expect(String(decoding: after.2, as: UTF8.self) == "200")
        #expect(d.process.isRunning)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let d = try DaemonTests.Daemon()
        defer { _ = d.stop() }
        try d.waitReady()
        let c = try #require(RawConnection(port: d.port))
        c.send("GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\nGET /-/ready HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
        let answer = c.receive(until: "HTTP/1.1 ", count: 3)
        let replies = c.receive(until: "\n") // drain what is left of the third
        let statuses = (answer + replies).components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0.prefix(3) }
        #expect(statuses == ["200", "200", "404"])
    }

    @Test(arguments: [
        "GARBAGE\r\n\r\n",
        "GET\r\n\r\n",
        "GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost x\r\n\r\n",
        "\u{1}\u{2}\u{3}\r\n\r\n",
    ])
    func malformedRequestsGetA4xxAndNoHarm(_ request: String) throws {
        let d = try DaemonTests.Daemon()
        defer { _ = d.stop() }
        try d.waitReady()
        let c = try #require(RawConnection(port: d.port))
        c.send(request)
        let answer = c.receive(until: "\r\n\r\n")
        if let status = answer.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) {
            #expect((400..<500).contains(status) || status == 505, "\(answer.prefix(60))")
        }
        let after = try DaemonTests.curl(["-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(d.port)/-/healthy"])
        #expect(String(decoding: after.2, as: UTF8.self) == "200")
    }

    @Test func hostileSetNamesWriteNothing() throws {
        let d = try DaemonTests.Daemon()
        defer { _ = d.stop() }
        try d.waitReady()
        for name in ["..%2F..%2Fetc", "%2e%2e", "wakeup_latency%0Ahist:keys=pid", "!wakeup_latency", "wakeup_latency:pause",
                     "hist:keys=pid", "%00", String(repeating: "a", count: 300)] {
            let r = try DaemonTests.curl(["-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Authorization: Bearer s3cret-admin-token",
                                          "http://127.0.0.1:\(d.port)/api/v1/trigger-sets/\(name)/install"])
            #expect(String(decoding: r.2, as: UTF8.self) == "404", "\(name)")
        }
        #expect(!d.logText.contains("tracefs write"))
    }
}
