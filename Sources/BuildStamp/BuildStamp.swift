import Foundation
import PackagePlugin

/// Stamps the exporter with the git revision it is built from, for `--version` and
/// `ftrace_exporter_build_info`, the way promu stamps the Prometheus exporters.
///
/// A prebuild command, because only a command that runs at every build sees a new commit.
/// It rewrites the generated file only when a value changed, so an unchanged checkout
/// rebuilds nothing. Outside a git checkout (a release tarball, or a tarball unpacked inside
/// someone else's repository) every value reads `unknown`.
@main
struct BuildStamp: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("generated")
        return [
            .prebuildCommand(
                displayName: "Stamping the build with its git revision",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [
                    "-c", script, "build-stamp", context.package.directoryURL.path, output.path,
                    ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"] ?? "",
                ],
                outputFilesDirectory: output),
        ]
    }

    /// $1 package directory, $2 output directory, $3 SOURCE_DATE_EPOCH or empty.
    /// The build date is the commit's (or SOURCE_DATE_EPOCH), not the clock's: a date that
    /// changed at every build would rebuild the module every time, and make builds differ.
    let script = #"""
        PATH=/usr/local/bin:/usr/bin:/bin:$PATH
        pkg=$1 out=$2 epoch=$3
        user=$(id -un 2>/dev/null)@$(uname -n 2>/dev/null)
        clean() { printf '%s' "$1" | tr -cd 'A-Za-z0-9._@/+:-'; }
        revision=unknown branch=unknown date=unknown
        top=$(git -C "$pkg" rev-parse --show-toplevel 2>/dev/null) || top=
        if [ -n "$top" ] && [ "$(cd "$top" && pwd -P)" = "$(cd "$pkg" && pwd -P)" ]; then
            revision=$(git -C "$pkg" rev-parse HEAD 2>/dev/null) || revision=unknown
            branch=$(git -C "$pkg" rev-parse --abbrev-ref HEAD 2>/dev/null) || branch=unknown
            [ -n "$epoch" ] || epoch=$(git -C "$pkg" log -1 --format=%ct 2>/dev/null) || epoch=
        fi
        if [ -n "$epoch" ]; then
            date=$(date -u -d "@$epoch" +%Y%m%d-%H:%M:%S 2>/dev/null || date -u -r "$epoch" +%Y%m%d-%H:%M:%S 2>/dev/null) || date=unknown
        fi
        mkdir -p "$out"
        tmp="$out.tmp"
        {
            echo '// Generated at build time by Sources/BuildStamp; not in the source tree.'
            echo 'enum BuildStamp {'
            echo "    static let revision = \"$(clean "${revision:-unknown}")\""
            echo "    static let branch = \"$(clean "${branch:-unknown}")\""
            echo "    static let user = \"$(clean "${user:-unknown}")\""
            echo "    static let date = \"$(clean "${date:-unknown}")\""
            echo '}'
        } > "$tmp"
        if cmp -s "$tmp" "$out/BuildStamp.swift"; then rm -f "$tmp"; else mv "$tmp" "$out/BuildStamp.swift"; fi
        """#
}
