/// The file that keeps the deadlines of time-boxed installs across restarts: one line per set,
/// `NAME UNIX_SECONDS`, after a comment line. Written whole (`FileReplacement`), read whole.
public enum DeadlinesFile {
    /// A state file larger than this is not ours: 1024 sets of the longest names fit in it.
    public static let sizeLimit = 64 * 1024
    public static let entryLimit = 1024

    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        /// 1-based; 0 for the file as a whole.
        public var line: Int
        public var message: String
        public var description: String { line > 0 ? "line \(line): \(message)" : message }
    }

    public static func parse(_ bytes: [UInt8]) throws(Problem) -> [String: Double] {
        guard bytes.count <= sizeLimit else {
            throw Problem(line: 0, message: "larger than \(sizeLimit / 1024) KiB")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw Problem(line: 0, message: "not UTF-8 text")
        }
        var deadlines: [String: Double] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 2 else {
                throw Problem(line: index + 1, message: "expected 'set-name unix-seconds' (got '\(line.prefix(80))')")
            }
            let name = String(fields[0])
            guard isSafeName(name) else {
                throw Problem(line: index + 1, message: "'\(name.prefix(80))' is not a trigger set name")
            }
            guard let seconds = Double(fields[1]), seconds.isFinite, seconds > 0 else {
                throw Problem(line: index + 1, message: "'\(fields[1].prefix(40))' is not a time in seconds since the epoch")
            }
            guard deadlines.updateValue(seconds, forKey: name) == nil else {
                throw Problem(line: index + 1, message: "set '\(name)' is listed twice")
            }
            guard deadlines.count <= entryLimit else {
                throw Problem(line: index + 1, message: "more than \(entryLimit) sets")
            }
        }
        return deadlines
    }

    public static func render(_ deadlines: [String: Double]) -> [UInt8] {
        var text = "# ftrace_exporter: when each time-boxed trigger set is removed (seconds since the epoch)\n"
        for (name, seconds) in deadlines.sorted(by: { $0.key < $1.key }) {
            text += "\(name) \(formatSeconds(seconds))\n"
        }
        return Array(text.utf8)
    }

    /// Milliseconds are all a deadline needs; whole seconds are written without a fraction.
    static func formatSeconds(_ seconds: Double) -> String {
        let milliseconds = Int64((seconds * 1000).rounded())
        let fraction = milliseconds % 1000
        guard fraction != 0 else { return String(milliseconds / 1000) }
        let digits = String(fraction)
        return "\(milliseconds / 1000).\(String(repeating: "0", count: 3 - digits.count))\(digits)"
    }
}
