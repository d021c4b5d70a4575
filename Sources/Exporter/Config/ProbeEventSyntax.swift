import TraceFS

/// The grammar of a probe definition as `dynamic_events` takes it (`trace_kprobe.c`:
/// `__trace_kprobe_create()`, `trace_fprobe.c`: `__trace_fprobe_create()`; the tracefs README):
/// `p[:[GROUP/]EVENT] PLACE [ARGS]`, `r[MAXACTIVE][:[GROUP/]EVENT] PLACE [ARGS]`,
/// `f[:[GROUP/]EVENT] FUNCTION[%return] [ARGS]`, `t[:[GROUP/]EVENT] TRACEPOINT [ARGS]`.
///
/// The head (kind, group, name) is checked here, because removal, read-back and the
/// trigger events depend on it; the place and the fetch arguments are left to the kernel,
/// whose `error_log` names the token it refuses.
enum ProbeEventSyntax {
    /// `MAX_EVENT_NAME_LEN` less its terminating NUL.
    static let longestName = 63
    /// `WRITE_BUFSIZE` of `trace_parse_run_command()`: a longer line is refused.
    static let longestDefinition = 4094
    /// `KRETPROBE_MAXACTIVE_MAX`.
    static let largestMaxActive = 4096

    static let form = "a probe event is 'p:<name> <function> [<args>]', 'r:<name> <function> [<args>]', 'f:<name> <function>[%return] [<args>]' or 't:<name> <tracepoint> [<args>]', e.g. 'p:ftrace_exporter_fsync vfs_fsync_range'"

    static func parse(_ text: String) -> Result<ProbeEventDefinition, SyntaxProblem> {
        if text.utf8.count > longestDefinition {
            return .failure("the definition is \(text.utf8.count) bytes; the kernel takes at most \(longestDefinition) a line")
        }
        if text.contains(where: { $0 == "\n" || $0 == "\r" }) {
            return .failure("one definition per item: the kernel reads each line of a write as its own command")
        }
        if text.contains("#") { return .failure("'#' starts a comment in dynamic_events, and the kernel would ignore the rest") }
        if text.hasPrefix("-") || text.hasPrefix("!") { return .failure("definitions add events; removal ('-:<group>/<name>') is derived from them") }
        if text.hasPrefix("s:") { return .failure("synthetic events go under synthetic_events, not probe_events") }
        if text.hasPrefix("e") { return .failure("event probes ('e:') are not supported; use a trigger on the event itself") }

        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard text.first.map({ $0 != " " && $0 != "\t" }) == true, tokens.count >= 2 else { return .failure("\(form)") }
        let head = tokens[0]
        var place = tokens[1]

        guard let letter = head.first, let colon = head.firstIndex(of: ":") else {
            return .failure("'\(head)' names no event: ours are named, '\(SyntheticEventSyntax.namePrefix)<name>' (\(form))")
        }
        let kind: ProbeEventDefinition.Kind
        switch letter {
        case "p": kind = .kprobe
        case "r": kind = .kretprobe
        case "f": kind = .fprobe
        case "t": kind = .tracepointProbe
        default: return .failure("'\(letter)' is not a probe kind: p (kprobe), r (kretprobe), f (fprobe) or t (tracepoint probe)")
        }
        let maxActive = head[head.index(after: head.startIndex)..<colon]
        if !maxActive.isEmpty {
            guard kind == .kretprobe else {
                return .failure("'\(head)': only a kretprobe ('r<maxactive>:') takes a number of instances")
            }
            guard maxActive.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(maxActive), n >= 1, n <= largestMaxActive else {
                return .failure("'\(maxActive)' is not a kretprobe maxactive from 1 to \(largestMaxActive)")
            }
        }

        var name = head[head.index(after: colon)...]
        var group = kind.defaultGroup
        if let slash = name.firstIndex(of: "/") {
            group = String(name[..<slash])
            name = name[name.index(after: slash)...]
            guard isIdentifier(group), group.count <= longestName else {
                return .failure("'\(group)' is not a valid group name (letters, digits and '_', not starting with a digit)")
            }
            if group == "synthetic" || group == "ftrace" {
                return .failure("the group '\(group)' belongs to the kernel's own events; leave the group out or name another")
            }
        }
        guard isIdentifier(String(name)) else {
            return .failure("'\(name)' is not a valid event name (letters, digits and '_', not starting with a digit)")
        }
        guard name.count <= longestName else { return .failure("'\(name)' is longer than the kernel's \(longestName) characters") }
        guard name.hasPrefix(SyntheticEventSyntax.namePrefix), name.count > SyntheticEventSyntax.namePrefix.count else {
            return .failure("probe events are global to the kernel, so ours are named '\(SyntheticEventSyntax.namePrefix)<name>': rename '\(name)' to '\(SyntheticEventSyntax.namePrefix)\(name)' (and every trigger that names it)")
        }

        // `p:... func%return` is a kretprobe (5.11+); `f:... func%return` stays an fprobe, on the return.
        if place.hasSuffix("%return") {
            place = place.dropLast("%return".count)
            if kind == .tracepointProbe { return .failure("a tracepoint probe has no return: drop '%return'") }
        }
        if place.isEmpty { return .failure("\(form)") }
        let resolvedKind = kind == .kprobe && tokens[1].hasSuffix("%return") ? .kretprobe : kind
        return .success(ProbeEventDefinition(kind: resolvedKind, event: EventName(system: group, event: String(name)), text: text))
    }
}
