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
    /// Why this tree must not be written to (it is not the kernel's tracefs), or nil.
    var writeRefusal: String? { get }
}

/// Every write checks the filesystem first: a fixture tree or a directory named by mistake is
/// read like tracefs, but appending "triggers" to its files would only damage them.
extension TraceFS: TraceFileSystem {
    public func append(_ relativePath: String, _ text: String) throws(TraceFSError) {
        try requireKernelTraceFS()
        try SystemCalls.appendOnce(path(relativePath), text)
    }

    public func truncate(_ relativePath: String) throws(TraceFSError) {
        try requireKernelTraceFS()
        try SystemCalls.truncate(path(relativePath))
    }

    public func makeDirectory(_ relativePath: String) throws(TraceFSError) {
        try requireKernelTraceFS()
        try SystemCalls.makeDirectory(path(relativePath))
    }

    public func removeDirectory(_ relativePath: String) throws(TraceFSError) {
        try requireKernelTraceFS()
        try SystemCalls.removeDirectory(path(relativePath))
    }

    private func requireKernelTraceFS() throws(TraceFSError) {
        if let readOnlyReason { throw TraceFSError(.readOnly(reason: readOnlyReason), path: root) }
        if !Filesystem.isTraceFS(root) { throw TraceFSError(.notAMount(filesystem: Filesystem.name(of: root)), path: root) }
    }
}

extension TraceFileSystem {
    /// Models of the kernel take writes.
    public var writeRefusal: String? { nil }
}
