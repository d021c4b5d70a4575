/// A configuration problem, placed at its file, line and field so it can be fixed
/// without reading the source.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    /// The field's path, e.g. `trigger_sets[0].triggers[2].metric.bucket_key`.
    public var field: String
    public var message: String

    public init(file: String, line: Int?, column: Int?, field: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let column { place += ":\(column)" }
        return field.isEmpty ? "\(place): \(message)" : "\(place): \(field): \(message)"
    }
}
