import TraceFS

/// Why an admin action did not happen, with what the kernel said and what was undone.
public struct ControlError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The name is not in the allow-list.
        case unknownSet(String)
        /// The kernel lacks what the set needs (a CONFIG option, a tracepoint).
        case featureMissing(String)
        /// clear, pause or continue on a set none of whose triggers is in the kernel.
        case notInstalled(String)
        /// A write failed: the errno and the kernel's own error_log record for it.
        case kernelRejected(write: PlannedWrite, errno: Int32, errorLog: String?)
        /// The write returned success but the read-back does not show its effect.
        case notConfirmed(write: PlannedWrite, readBack: String)
        /// The write returned success but the file that would show its effect could not be
        /// read: not confirmed, never taken for success.
        case readBackFailed(write: PlannedWrite, error: TraceFSError)
        /// tracefs itself could not be read.
        case unreadable(TraceFSError)
        /// An install's duration is not one the set allows (or not a duration).
        case durationRefused(String)
        /// The deadline of a time-boxed install could not be written where a restart finds it;
        /// nothing was installed.
        case deadlineNotSaved(String)
    }

    public var kind: Kind
    /// Writes made to undo a failed install, with their outcome ("ok" or the errno).
    public var rollback: [(write: PlannedWrite, result: String)]

    public init(_ kind: Kind, rollback: [(write: PlannedWrite, result: String)] = []) {
        self.kind = kind
        self.rollback = rollback
    }

    /// The HTTP status the admin API answers with.
    public var httpStatus: Int {
        switch kind {
        case .unknownSet: return 404
        case .featureMissing: return 503
        case .notInstalled: return 409
        case .kernelRejected(_, let errno, _):
            switch errnoName(errno) {
            case "EBUSY", "EEXIST": return 409
            case "EINVAL", "ENOENT", "E2BIG": return 422
            default: return 500
            }
        case .durationRefused: return 400
        case .notConfirmed, .readBackFailed, .unreadable, .deadlineNotSaved: return 500
        }
    }

    public var description: String {
        switch kind {
        case .unknownSet(let name): return "no trigger set named '\(name)' in the allow-list"
        case .featureMissing(let what): return what
        case .notInstalled(let name):
            return "trigger set '\(name)' is not installed: install it first (POST /api/v1/trigger-sets/\(name)/install)"
        case .kernelRejected(let write, let errno, let log):
            var s = "the kernel refused \(write): \(errnoName(errno))"
            if let meaning = ControlError.meaning(errno) { s += " (\(meaning))" }
            if let log { s += "; error_log: \(log)" }
            return s
        case .notConfirmed(let write, let readBack):
            return "\(write) reported success but the read-back does not show it (read back: \(readBack.isEmpty ? "<empty>" : readBack))"
        case .readBackFailed(let write, let error):
            return "\(write) reported success but could not be confirmed: the read-back failed: \(error)"
        case .unreadable(let error): return "cannot read tracefs: \(error)"
        case .durationRefused(let why): return why
        case .deadlineNotSaved(let why): return "the install's deadline cannot be kept across a restart, so nothing was installed: \(why)"
        }
    }

    /// What an errno means for a tracefs write (hist-format.md §5).
    static func meaning(_ errno: Int32) -> String? {
        switch errnoName(errno) {
        case "EEXIST": return "an identical trigger or synthetic event already exists"
        case "EBUSY": return "still in use: another trigger references its variables or synthetic event"
        case "EINVAL": return "the kernel rejected the command text"
        case "ENOENT": return "no such trigger, event or file"
        case "EPERM", "EACCES": return "permission denied: run as root or with write access to tracefs"
        case "ENODEV": return "tracefs is not available"
        default: return nil
        }
    }
}
