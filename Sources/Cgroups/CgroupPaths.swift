#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Locking

/// cgroup v2 ids to paths relative to the mount. A cgroup's id is its directory's inode number
/// (kernfs gives both from one counter on 64-bit kernels), so one walk of the mount with
/// `readdir`'s `d_ino` names every cgroup without a `stat` each.
///
/// The tree is walked once, then again only when asked for an id it does not know, at most
/// once per `minimumRewalkNanoseconds`: an id still unknown after that is a cgroup gone since
/// (or not under this mount), and stays unnamed rather than making every refresh walk. A walk
/// reads at most `maximumCgroups` directories, `maximumDepth` levels deep.
public final class CgroupPaths: Sendable {
    public let mount: String
    public let maximumCgroups: Int
    public let maximumDepth: Int
    public let minimumRewalkNanoseconds: UInt64
    private let clock: @Sendable () -> UInt64

    private struct State {
        var paths: [UInt64: String] = [:]
        var lastWalk: UInt64?
        var walks = 0
        var truncated = false
    }
    private let state = Locked(State())

    public init(
        mount: String = "/sys/fs/cgroup", maximumCgroups: Int = 65536, maximumDepth: Int = 32,
        minimumRewalkNanoseconds: UInt64 = 10_000_000_000, clock: @escaping @Sendable () -> UInt64
    ) {
        self.mount = mount.count > 1 && mount.hasSuffix("/") ? String(mount.dropLast()) : mount
        self.maximumCgroups = maximumCgroups
        self.maximumDepth = maximumDepth
        self.minimumRewalkNanoseconds = minimumRewalkNanoseconds
        self.clock = clock
    }

    /// How many times the mount was walked.
    public var walks: Int { state.withLock { $0.walks } }
    /// Whether the latest walk stopped at `maximumCgroups` or `maximumDepth`.
    public var truncated: Bool { state.withLock { $0.truncated } }

    /// The path of each id it can name (`/` for the root); unknown ids are left out.
    public func paths(for ids: some Sequence<UInt64>) -> [UInt64: String] {
        state.withLock { state in
            var known: [UInt64: String] = [:]
            var unknown = false
            for id in ids {
                if let path = state.paths[id] { known[id] = path } else { unknown = true }
            }
            guard unknown else { return known }
            let now = clock()
            if let last = state.lastWalk, now &- last < minimumRewalkNanoseconds { return known }
            return Self.rewalk(&state, at: now, for: ids, walk: walkTree())
        }
    }

    /// The path of each id that names a cgroup now: the mount is walked again whatever the
    /// interval, for the rare caller that must not take a removed cgroup for a live one.
    public func currentPaths(for ids: some Sequence<UInt64>) -> [UInt64: String] {
        state.withLock { state in Self.rewalk(&state, at: clock(), for: ids, walk: walkTree()) }
    }

    private static func rewalk(
        _ state: inout State, at now: UInt64, for ids: some Sequence<UInt64>, walk: (paths: [UInt64: String], truncated: Bool)
    ) -> [UInt64: String] {
        state.paths = walk.paths
        state.lastWalk = now
        state.walks += 1
        state.truncated = walk.truncated
        var known: [UInt64: String] = [:]
        for id in ids { if let path = state.paths[id] { known[id] = path } }
        return known
    }

    /// Every cgroup under the mount, breadth first so that a bound leaves out the deepest.
    private func walkTree() -> (paths: [UInt64: String], truncated: Bool) {
        var paths: [UInt64: String] = [:]
        var rootStat = stat()
        guard stat(mount, &rootStat) == 0 else { return ([:], false) }
        paths[UInt64(rootStat.st_ino)] = "/"
        var level: [String] = [""]
        var depth = 0
        var truncated = false
        while !level.isEmpty {
            guard depth < maximumDepth else { truncated = true; break }
            var next: [String] = []
            for relative in level {
                guard let dir = opendir(mount + relative) else { continue }
                defer { closedir(dir) }
                while let entry = readdir(dir) {
                    guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
                    let name = withUnsafePointer(to: entry.pointee.d_name) {
                        $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                    }
                    guard name != "." && name != ".." else { continue }
                    guard paths.count < maximumCgroups else { return (paths, true) }
                    let path = relative + "/" + name
                    paths[UInt64(entry.pointee.d_ino)] = path
                    next.append(path)
                }
            }
            level = next
            depth += 1
        }
        return (paths, truncated)
    }
}
