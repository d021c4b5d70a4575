#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Exporter
import HistFormat
import TraceFS

let usage = """
    usage: ftrace_exporter_bench parse [--time SECONDS] [--shapes a,b,c] [--sizes 128,2048,65536,131072]
           ftrace_exporter_bench file PATH [--repeat N] [--pid-labels] [--series-limit N]
           ftrace_exporter_bench profile SHAPE ENTRIES PHASE [--repeat N]   (PHASE: baseline, parse, map, encode, all)
           ftrace_exporter_bench admin-scrape [--seconds S] [--rounds N] [--write-delay-ms MS] [--threads N] [--blocking-reference]

    parse    generated tables in the kernel's exact hist format, (a) kmalloc by task and call site,
             (b) wakeup latency per CPU (log2), (c) stack traces; each phase against a baseline that
             reads the same bytes from a file and splits them into lines. Prints a table and one
             BENCH line per figure with a goal.
    file     one real hist file: reading it (open+read until EOF) against parsing, discovery mapping
             and encoding the same bytes, N times each (default 20).
    profile  runs one phase N times (default 1) inside `profiledRun`, for
             valgrind --tool=callgrind --toggle-collect='*profiledRun*'.
    admin-scrape a scrape's p50/p99 on one keep-alive connection while installs and removals of a
             trigger set loop on the same listener, against the same scrape with none: the
             exporter's web application in-process over the in-memory kernel, each kernel write
             taking MS (default 100), N pairs of S-second phases (default 2 of 5 s), N pool threads
             (default the exporter's 2). --blocking-reference adds the busy phase with each action
             answered on the server thread that took it.
    """

func option(_ args: [String], _ name: String) -> String? {
    guard let i = args.firstIndex(of: name) else { return nil }
    guard i + 1 < args.count else { fail("\(name) needs a value\n\(usage)") }
    return args[i + 1]
}

func intOption(_ args: [String], _ name: String) -> Int? {
    guard let text = option(args, name) else { return nil }
    guard let n = Int(text), n > 0 else { fail("\(name) must be a positive integer, not '\(text)'") }
    return n
}

@inline(never)
func profiledRun(_ repeats: Int, _ body: () -> Int) {
    for _ in 0..<repeats { consume(body()) }
}

func profile(_ args: [String]) {
    guard args.count >= 4, let shape = Shape(rawValue: args[1]), let entries = Int(args[2]) else { fail(usage) }
    let repeats = intOption(args, "--repeat") ?? 1
    let benchmark = ParseBenchmark()
    let work = benchmark.work(for: shape, mapping: ParseBenchmark.wakeupMapping())
    let table = TableGenerator.make(shape, entries: entries)
    let bytes = table.bytes
    guard let parsed = try? work.parse(bytes) else { fail("generated table does not parse") }
    switch args[3] {
    case "baseline":
        let directory = TemporaryDirectory()
        directory.store("t.hist", bytes)
        var baseline = LineSplitBaseline(fs: TraceFS(root: directory.path), name: "t.hist")
        profiledRun(repeats) { baseline.run() }
        directory.remove("t.hist")
    case "parse": profiledRun(repeats) { (try? work.parse(bytes))?.blocks.count ?? -1 }
    case "map": profiledRun(repeats) { work.map(parsed).count }
    case "encode":
        let families = work.map(parsed)
        profiledRun(repeats) { work.encode(families).count }
    case "all": profiledRun(repeats) { (try? work.all(bytes)) ?? -1 }
    default: fail(usage)
    }
    print("profiled \(args[3]) of (\(shape.rawValue)) \(entries) entries \(repeats)x, \(bytes.count) bytes (sink \(sink))")
}

let args = Array(CommandLine.arguments.dropFirst())
switch args.first {
case "parse":
    var benchmark = ParseBenchmark()
    if let t = option(args, "--time") {
        guard let seconds = Double(t), seconds > 0 else { fail("--time must be a positive number of seconds") }
        benchmark.plan.secondsPerFigure = seconds
    }
    if let list = option(args, "--shapes") {
        benchmark.shapes = list.split(separator: ",").map { text -> Shape in
            guard let shape = Shape(rawValue: String(text)) else { fail("unknown shape '\(text)'") }
            return shape
        }
    }
    if let list = option(args, "--sizes") {
        benchmark.sizes = list.split(separator: ",").map { text -> Int in
            guard let n = Int(text), n >= 32 else { fail("bad size '\(text)' (32 entries at least)") }
            return n
        }
    }
    benchmark.run()
case "file":
    guard args.count >= 2, !args[1].hasPrefix("--") else { fail(usage) }
    var benchmark = FileBenchmark(path: args[1])
    if let n = intOption(args, "--repeat") { benchmark.repeats = n }
    if let n = intOption(args, "--series-limit") { benchmark.seriesLimit = n }
    benchmark.pidLabels = args.contains("--pid-labels")
    benchmark.run()
case "profile":
    profile(args)
case "admin-scrape":
    var benchmark = AdminScrapeBenchmark()
    if let t = option(args, "--seconds") {
        guard let seconds = Double(t), seconds > 0, seconds <= 600 else { fail("--seconds must be in (0, 600]") }
        benchmark.secondsPerPhase = seconds
    }
    if let n = intOption(args, "--rounds") { benchmark.rounds = min(n, 20) }
    if let n = intOption(args, "--write-delay-ms") { benchmark.writeDelayMilliseconds = min(n, 10_000) }
    if let n = intOption(args, "--threads") { benchmark.threadPoolSize = min(n, 64) }
    benchmark.blockingReference = args.contains("--blocking-reference")
    benchmark.run()
case "-h", "--help", "help":
    print(usage)
default:
    fail(usage)
}
