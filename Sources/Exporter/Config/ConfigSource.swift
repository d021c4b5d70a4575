import TraceFS

/// Loads the configuration from a file, or the built-in one when no file is named.
public enum ConfigSource {
    public static func load(path: String?) throws(ConfigError) -> ExporterConfig {
        guard let path else { return try DefaultConfig.load() }
        let bytes: [UInt8]
        do {
            bytes = try readConfigFile(path)
        } catch {
            throw ConfigError(file: path, line: nil, column: nil, field: "", message: "cannot read: \(error)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigError(file: path, line: nil, column: nil, field: "", message: "not UTF-8 text")
        }
        return try ConfigLoader.load(yaml: text, file: path)
    }

    /// The largest configuration read: the built-in one is a few KiB, and a file past this is
    /// not a configuration (`/dev/zero`, a log named by mistake).
    public static let maximumBytes = 1 << 20

    static func readConfigFile(_ path: String) throws(TraceFSError) -> [UInt8] {
        try TraceFS(root: "/").readAbsolute(path, limit: maximumBytes)
    }
}
