/// A trace array's `error_log` (5.2+, `tracing_err_log_seq_show()`): records of three lines,
/// `[  ts.micros] LOC: error: MSG`, `  Command: CMD` and a caret under the failing token. The
/// kernel keeps the last eight.
public struct ErrorLogFile: Sendable {
    public struct Record: Equatable, Sendable {
        /// `hist:<sys>:<event>`, `synthetic_events`, `trace_kprobe`...
        public var location: String
        public var message: String
        public var command: String
        /// Byte offset of the caret inside `command`; nil without a caret line.
        public var caret: Int?
        /// The record's lines as the kernel printed them.
        public var text: String
    }

    public var records: [Record]

    public init(parsing text: String) {
        records = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var i = 0
        while i < lines.count {
            let line = lines[i]
            guard line.hasPrefix("["), let close = line.firstIndex(of: "]") else {
                i += 1
                continue
            }
            // One String throughout: indices found in a copy do not index the original.
            let rest = String(line[line.index(after: close)...].drop { $0 == " " })
            var location = ""
            var message = rest
            if let marker = rest.firstRange(of: ": error: ") {
                location = String(rest[..<marker.lowerBound])
                message = String(rest[marker.upperBound...])
            }
            var command = ""
            var caret: Int?
            var block = [line]
            if i + 1 < lines.count, lines[i + 1].hasPrefix(Self.commandPrefix) {
                command = String(lines[i + 1].dropFirst(Self.commandPrefix.count))
                block.append(lines[i + 1])
                if i + 2 < lines.count, lines[i + 2].hasSuffix("^"), lines[i + 2].dropLast().allSatisfy({ $0 == " " }) {
                    caret = lines[i + 2].utf8.count - 1 - Self.commandPrefix.count
                    block.append(lines[i + 2])
                    i += 1
                }
                i += 1
            }
            records.append(Record(location: location, message: message, command: command, caret: caret, text: block.joined(separator: "\n")))
            i += 1
        }
    }

    public init(_ bytes: [UInt8]) { self.init(parsing: String(decoding: bytes, as: UTF8.self)) }

    /// The caret line is indented by this prefix's length, then by the caret's offset.
    static let commandPrefix = "  Command: "

    /// The record for a failed write: the last one whose command is ours, else the last one.
    public func record(for command: String) -> Record? {
        records.last { $0.command == command || command.hasSuffix($0.command) && !$0.command.isEmpty } ?? records.last
    }
}
