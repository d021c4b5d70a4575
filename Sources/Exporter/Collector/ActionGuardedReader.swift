import TraceFS

/// tracefs read between the controller's actions. Reading an event's `trigger` or `hist` file
/// while that event is being deleted crashed Linux 6.1 in trigger_start() (a synthetic event
/// removed), so no read overlaps an install, a removal or a rotation; each read waits for the
/// action under way, one file at a time.
struct ActionGuardedReader: TraceFileReader {
    let base: any TraceFileReader
    let controller: TriggerController

    var root: String { base.root }

    func read(_ relativePath: String) throws(TraceFSError) -> [UInt8] {
        try controller.whileNoActionRuns { () -> Result<[UInt8], TraceFSError> in
            do throws(TraceFSError) { return .success(try base.read(relativePath)) } catch { return .failure(error) }
        }.get()
    }

    func list(_ relativePath: String) throws(TraceFSError) -> [String] {
        try controller.whileNoActionRuns { () -> Result<[String], TraceFSError> in
            do throws(TraceFSError) { return .success(try base.list(relativePath)) } catch { return .failure(error) }
        }.get()
    }

    func exists(_ relativePath: String) -> Bool {
        controller.whileNoActionRuns { base.exists(relativePath) }
    }
}
