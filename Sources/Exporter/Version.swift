/// The release this source tree builds, and what the build was made from.
public enum ExporterVersion {
    public static let version = "0.1.0"
    /// The git commit, `unknown` when built outside a git checkout (a tarball).
    public static let revision = BuildStamp.revision
    public static let branch = BuildStamp.branch
    /// `user@host` that built the binary.
    public static let buildUser = BuildStamp.user
    /// The commit's date (or `SOURCE_DATE_EPOCH`), as `YYYYMMDD-HH:MM:SS` UTC, so that two
    /// builds of one commit are the same.
    public static let buildDate = BuildStamp.date

    /// The Swift language mode's compiler, to the minor version (all `#if compiler` can tell).
    public static let swiftVersion: String = {
        #if compiler(>=7.0)
        return "7.0+"
        #elseif compiler(>=6.5)
        return "6.5"
        #elseif compiler(>=6.4)
        return "6.4"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }()

    public static let platform: String = {
        #if os(Linux)
        let os = "linux"
        #elseif os(macOS)
        let os = "darwin"
        #else
        let os = "unknown"
        #endif
        #if arch(x86_64)
        return os + "/amd64"
        #elseif arch(arm64)
        return os + "/arm64"
        #else
        return os + "/unknown"
        #endif
    }()

    /// `--version`, laid out like the Prometheus exporters' (`node_exporter --version`).
    public static var versionText: String {
        """
        ftrace_exporter, version \(version) (branch: \(branch), revision: \(revision))
          build user:       \(buildUser)
          build date:       \(buildDate)
          swift version:    \(swiftVersion)
          platform:         \(platform)
        """
    }
}
