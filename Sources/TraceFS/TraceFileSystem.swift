/// Read and write access to tracefs: the real kernel, or an in-memory model of it in tests.
///
/// Writes follow the kernel's rules for control files: one command per `write()`,
/// always appended (O_TRUNC on a `trigger` file deletes every hist trigger of the event).
public protocol TraceFileSystem: TraceFileReader {
    /// Opens the file O_WRONLY|O_APPEND and writes `text` in one `write()`.
    func append(_ relativePath: String, _ text: String) throws(TraceFSError)
    /// Opens the file O_WRONLY|O_TRUNC (clears `error_log`).
    func truncate(_ relativePath: String) throws(TraceFSError)
    /// `mkdir` (creates an instance under `instances/`).
    func makeDirectory(_ relativePath: String) throws(TraceFSError)
    /// `rmdir` (removes an instance).
    func removeDirectory(_ relativePath: String) throws(TraceFSError)
}

extension TraceFS: TraceFileSystem {
    public func append(_ relativePath: String, _ text: String) throws(TraceFSError) {
        try SystemCalls.appendOnce(path(relativePath), text)
    }

    public func truncate(_ relativePath: String) throws(TraceFSError) {
        try SystemCalls.truncate(path(relativePath))
    }

    public func makeDirectory(_ relativePath: String) throws(TraceFSError) {
        try SystemCalls.makeDirectory(path(relativePath))
    }

    public func removeDirectory(_ relativePath: String) throws(TraceFSError) {
        try SystemCalls.removeDirectory(path(relativePath))
    }
}
