import Foundation

/// Debian's Prometheus server on a free loopback port with `configuration` as prometheus.yml and
/// its data under `directory`; stopped by `stop()`.
public final class PrometheusServer {
    public static let executable = "/usr/bin/prometheus"
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    public let port: Int
    private let process = Process()

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
        let result = try curl(["--get", "--data-urlencode", "query=\(expression)", "http://127.0.0.1:\(port)/api/v1/query"])
        return result.body
    }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
