import Logging
import Platform

/// One event a line on standard error, as logfmt or JSON, like the Prometheus exporters.
public struct StructuredLogHandler: LogHandler {
    public enum Format: String, Sendable, CaseIterable { case logfmt, json }

    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let label: String
    let format: Format
    let write: @Sendable (String) -> Void

    public init(label: String, level: Logger.Level, format: Format, write: @escaping @Sendable (String) -> Void = StructuredLogHandler.standardError) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The Prometheus exporters' four level names, the ones `--log.level` takes: a filter
    /// written for `level=warn` must find our warnings.
    static func levelName(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: return "debug"
        case .info, .notice: return "info"
        case .warning: return "warn"
        case .error, .critical: return "error"
        }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [("ts", timestamp()), ("level", Self.levelName(event.level)), ("msg", event.message.description)]
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { fields.append((key, "\(value)")) }
        write(format == .json ? Self.json(fields) : Self.logfmt(fields))
    }

    static func logfmt(_ fields: [(String, String)]) -> String {
        fields.map { key, value in
            let needsQuotes = value.isEmpty || value.contains(where: { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\n" || $0 == "\\" })
            return needsQuotes ? "\(key)=\(quote(value))" : "\(key)=\(value)"
        }.joined(separator: " ") + "\n"
    }

    static func json(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\(quote($0.0)):\(quote($0.1))" }.joined(separator: ",") + "}\n"
    }

    /// JSON string quoting, shared with the admin API's JSON writer.
    static func quote(_ s: String) -> String {
        var out = ""
        JSON.quote(s, into: &out)
        return out
    }

    /// RFC 3339 UTC with milliseconds, without Foundation.
    func timestamp() -> String { utcTimestamp() }

    public static let standardError: @Sendable (String) -> Void = { line in writeToStandardError(line) }
}
