import Platform
import TraceFS

/// Loads the configuration from a file, or the built-in one when no file is named.
public enum ConfigSource {
    public static func load(path: String?) throws(ConfigError) -> ExporterConfig {
        guard let path else { return try DefaultConfig.load() }
        let bytes: [UInt8]
        do {
            bytes = try WholeFile.read(path, limit: maximumBytes)
        } catch {
            let reason = switch error {
            case .system(let errno): TraceFSError.system(errno, path).description
            case .tooLarge(let limit): TraceFSError(.tooLarge(limit: limit), path: path).description
            }
            throw ConfigError(file: path, line: nil, column: nil, field: "", message: "cannot read: \(reason)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigError(file: path, line: nil, column: nil, field: "", message: "not UTF-8 text")
        }
        return try ConfigLoader.load(yaml: text, file: path)
    }

    /// The largest configuration read: the built-in one is a few KiB, and a file past this is
    /// not a configuration (`/dev/zero`, a log named by mistake).
    public static let maximumBytes = 1 << 20
}
