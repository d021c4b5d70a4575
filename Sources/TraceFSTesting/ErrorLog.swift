/// One record of an `error_log` file (`tracing_log_err()`).
struct ErrorLogEntry: Equatable, Sendable {
    var microseconds: UInt64
    /// `hist:<sys>:<event>` or `synthetic_events`.
    var location: String
    var message: String
    var command: String
    /// Byte offset of the caret inside `command`.
    var position: Int

    /// `err_pos()`: the offset of the first occurrence of `token` in the command, which is
    /// why a caret can point at an earlier identical substring; 0 when it is not there.
    static func position(of token: String, in command: String) -> Int {
        guard !token.isEmpty else { return 0 }
        let hay = Array(command.utf8)
        let needle = Array(token.utf8)
        guard needle.count <= hay.count else { return 0 }
        for start in 0...(hay.count - needle.count) where hay[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return 0
    }

    /// `tracing_err_log_seq_show()`: `[%5llu.%06u] LOC: error: MSG`, the command, and a
    /// caret under it (11 spaces are `strlen("  Command: ")`).
    var rendered: String {
        let seconds = String(microseconds / 1_000_000)
        let fraction = String(microseconds % 1_000_000)
        let paddedSeconds = String(repeating: " ", count: max(0, 5 - seconds.count)) + seconds
        let paddedFraction = String(repeating: "0", count: max(0, 6 - fraction.count)) + fraction
        return "[\(paddedSeconds).\(paddedFraction)] \(location): error: \(message)\n"
            + "  Command: \(command)\n"
            + String(repeating: " ", count: 11 + position) + "^\n"
    }
}

/// The per-trace-array error log: the kernel keeps the last `TRACING_LOG_ERRS_MAX` (8).
struct ErrorLog: Equatable, Sendable {
    static let capacity = 8
    private(set) var entries: [ErrorLogEntry] = []

    mutating func add(_ entry: ErrorLogEntry) {
        entries.append(entry)
        if entries.count > Self.capacity { entries.removeFirst(entries.count - Self.capacity) }
    }

    mutating func clear() { entries.removeAll() }

    var rendered: String { entries.map(\.rendered).joined() }
}

/// A failed control write: the errno the `write()` returns.
struct KernelFailure: Error, Equatable {
    var errno: Int32
    init(_ errno: Int32) { self.errno = errno }
}
