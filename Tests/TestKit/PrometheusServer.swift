import Foundation

/// Debian's Prometheus server on a free loopback port with `configuration` as prometheus.yml and
/// its data under `directory`; stopped by `stop()`.
public final class PrometheusServer {
    public static let executable = "/usr/bin/prometheus"
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    public let port: Int
    private let process = Process()
    /// Its process id: for a caller that must be able to stop it after this process is gone.
    public var processIdentifier: Int32 { process.processIdentifier }
    /// The time limit of each query, in seconds.
    public var queryMaxTime: Double = 10

    public init(configuration: String, directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("prometheus.yml")
        try configuration.write(to: file, atomically: true, encoding: .utf8)
        port = freePort()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["--config.file", file.path, "--storage.tsdb.path", directory.appendingPathComponent("data").path,
                             "--web.listen-address", "127.0.0.1:\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// The raw JSON answer of an instant query (an empty string while the server is starting).
    public func query(_ expression: String) throws -> String {
        let result = try curl(["--get", "--data-urlencode", "query=\(expression)", "http://127.0.0.1:\(port)/api/v1/query"],
                              maxTime: queryMaxTime)
        return result.body
    }

    /// Whether `/-/ready` answers 200 within `seconds`, asked every 0.2 s.
    public func becomesReady(within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if let result = try? curl(["http://127.0.0.1:\(port)/-/ready"], maxTime: 2), result.ok { return true }
            Thread.sleep(forTimeInterval: 0.2)
        } while Date() < deadline
        return false
    }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
