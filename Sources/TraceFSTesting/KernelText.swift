import Locking
import Platform

/// The text of the kernel's own files, as Debian 6.1.0-56 (6.1.192) prints them, read from the
/// fixture tree (`Tests/Fixtures`) the tests use too.
enum KernelText {
    /// What a README line needs to be printed.
    enum ReadmeFeature { case errorLog, syntheticEvents, histTriggers, kprobeEvents }

    /// `Tests/Fixtures`, from this file's place in the package.
    static let fixtures: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) }
        return path + "/Tests/Fixtures"
    }()

    static func fixture(_ relativePath: String) -> String? {
        (try? WholeFile.read(fixtures + "/" + relativePath, limit: 1 << 20)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The lines of the README that a kernel without a feature does not print: the first line of
    /// each such part, and how many lines it has.
    static let featureParts: [(feature: ReadmeFeature, firstLine: String, lines: Int)] = [
        (.errorLog, "  error_log\t- error log for failed commands (that support it)", 1),
        (.kprobeEvents, "\t   Format: p[:[<group>/][<event>]] <place> [<args>]", 2),
        (.syntheticEvents, "\t           s:[synthetic/]<event> <field> [<field>]", 1),
        (.syntheticEvents, "\t    field: <stype> <name>;", 3),
        (.histTriggers, "\t            enable_hist:<system>:<event>", 2),
        (.histTriggers, "\t\t    hist (see below)", 1),
        (.histTriggers, "      hist trigger\t- If set, event hits are aggregated into a hash table", 92),
        (.syntheticEvents, "  events/synthetic_events\t- Create/append/remove/show synthetic events", 3),
    ]

    /// What a 6.12 README adds after the kretprobe line with CONFIG_FPROBE_EVENTS.
    static let fprobeReadmeLines = [
        "\t           f[:[<group>/][<event>]] <func-name>[%return] [<args>]",
        "\t           t[:[<group>/][<event>]] <tracepoint> [<args>]",
    ]

    /// The start of a `format` file the kernel makes for an event it defines (synthetic or
    /// probe): name, id and the common fields, up to the event's own.
    static func formatHead(name: String, id: Int) -> [String] {
        [
            "name: \(name)",
            "ID: \(id)",
            "format:",
            "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;",
            "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;",
            "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;",
            "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;",
            "",
        ]
    }

    /// The captured README (corpus/95), each line tagged with the feature it needs.
    static let readme: [(feature: ReadmeFeature?, line: Substring)] = {
        guard let text = fixture("corpus/95-README.txt") else { preconditionFailure("\(fixtures)/corpus/95-README.txt is missing") }
        var tagged: [(feature: ReadmeFeature?, line: Substring)] = []
        var inPart: (feature: ReadmeFeature, left: Int)?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if inPart == nil, let part = featureParts.first(where: { $0.firstLine == line }) { inPart = (part.feature, part.lines) }
            tagged.append((inPart?.feature, line))
            if let part = inPart { inPart = part.left > 1 ? (part.feature, part.left - 1) : nil }
        }
        return tagged
    }()

    /// The events the kernel model knows by their real 6.1 `format` files (`formats/`); the
    /// fixture tree's kprobe and synthetic formats are not among them, as the model makes those
    /// itself when they are defined.
    static let capturedFormats: Set<String> = [
        "sched/sched_waking", "sched/sched_switch", "sched/sched_wakeup", "sched/sched_process_exec",
        "raw_syscalls/sys_enter", "raw_syscalls/sys_exit", "kmem/kmalloc", "workqueue/workqueue_queue_work",
    ]

    /// A captured `format` file, else one written the way 6.1 prints them
    /// (`formats-written/`), for default events no capture covers.
    static func format(_ event: String) -> String? {
        formats.withLock { cache in
            if let known = cache[event] { return known }
            let text = capturedFormats.contains(event) ? fixture("formats/\(event)/format") : fixture("formats-written/\(event)/format")
            cache[event] = text
            return text
        }
    }

    private static let formats = Locked<[String: String?]>([:])
}
