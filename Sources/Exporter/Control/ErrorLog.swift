/// Reading the kernel's `error_log` (5.2+): records of three lines, `[ts] loc: error: msg`,
/// `  Command: ...` and a caret line. The exporter truncates the log before a write and
/// reads the last record after a failure, so the record is the one for its own write.
enum ErrorLog {
    struct Record: Equatable {
        var location: String
        var message: String
        var command: String
        var text: String
    }

    static func records(_ text: String) -> [Record] {
        var records: [Record] = []
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
            var block = [line]
            if i + 1 < lines.count, lines[i + 1].hasPrefix("  Command: ") {
                command = String(lines[i + 1].dropFirst(11))
                block.append(lines[i + 1])
                if i + 2 < lines.count, lines[i + 2].hasSuffix("^") {
                    block.append(lines[i + 2])
                    i += 1
                }
                i += 1
            }
            records.append(Record(location: location, message: message, command: command, text: block.joined(separator: "\n")))
            i += 1
        }
        return records
    }

    /// The record for a failed write: the last one whose command is ours, else the last one.
    static func record(for command: String, in text: String) -> Record? {
        let all = records(text)
        return all.last { $0.command == command || command.hasSuffix($0.command) && !$0.command.isEmpty } ?? all.last
    }
}
