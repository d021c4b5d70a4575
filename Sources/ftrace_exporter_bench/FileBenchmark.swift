import Exporter
import Exposition
import HistFormat
import TraceFS

/// `ftrace_exporter_bench file PATH [--repeat N]`: one real hist file, read N times (open,
/// read until EOF: on a live kernel this includes the kernel sorting the table) against the
/// exporter's work on the same bytes N times (parse, discovery mapping, text 0.0.4).
struct FileBenchmark {
    var path: String
    var repeats = 20
    var pidLabels = false
    var seriesLimit = ConfigLoader.defaultDiscoverySeriesLimit

    func run() {
        let (directory, name) = split(path)
        let fs = TraceFS(root: directory)
        let work = ExporterWork(
            fileLabels: labels(), mapping: nil, pidLabels: pidLabels, seriesLimit: seriesLimit, format: format(fs, name))

        // Warm-up, and the checks that the file is a hist file we can read and parse.
        let bytes: [UInt8]
        do { bytes = try fs.read(name) } catch { fail("cannot read \(path): \(error)") }
        let parsed: HistFile
        do { parsed = try work.parse(bytes) } catch { fail("\(path) does not parse as a hist file: \(error)") }
        let families = work.map(parsed)
        let output = work.encode(families)

        var readSamples: [UInt64] = []
        var workSamples: [UInt64] = []
        for _ in 0..<repeats {
            // Interleaved, so drift on a noisy machine hits both sides alike.
            var start = now()
            do { consume(try fs.read(name).count) } catch { fail("cannot read \(path): \(error)") }
            readSamples.append(now() &- start)
            start = now()
            consume((try? work.all(bytes)) ?? -1)
            workSamples.append(now() &- start)
        }
        var parseSamples: [UInt64] = []
        var mapSamples: [UInt64] = []
        var encodeSamples: [UInt64] = []
        for _ in 0..<repeats {
            var start = now()
            consume((try? work.parse(bytes))?.blocks.count ?? -1)
            parseSamples.append(now() &- start)
            start = now()
            consume(work.map(parsed).count)
            mapSamples.append(now() &- start)
            start = now()
            consume(work.encode(families).count)
            encodeSamples.append(now() &- start)
        }
        let read = summarize(readSamples)
        let all = summarize(workSamples)
        let entries = parsed.blocks.reduce(0) { $0 + $1.entries.count }
        let mb = Double(bytes.count) / 1e6

        print("ftrace_exporter_bench file \(path): \(repeats) runs each, interleaved, medians")
        print("file: \(bytes.count) bytes, \(parsed.blocks.count) table(s), \(entries) entries -> \(families.seriesCount) series, \(output.count) bytes of text 0.0.4")
        print("discovery: pid labels \(pidLabels ? "on" : "off"), series limit \(seriesLimit)\(work.format == nil ? "" : ", signedness from the event's format file")")
        row("kernel read (open+read to EOF)", read, mb, entries, repeats)
        row("exporter parse+map+encode", all, mb, entries, repeats)
        row("  parse", summarize(parseSamples), mb, entries, repeats)
        row("  map", summarize(mapSamples), mb, entries, repeats)
        row("  encode", summarize(encodeSamples), mb, entries, repeats)
        print("exporter work / kernel read: \(fixed(all.median / read.median, 2))")
        let line = BenchLine(
            figure: "exporter work vs kernel read (\(path))", ours: all.microseconds, baseline: read.microseconds,
            goal: .atMost(1.0, ""), goalOnRatio: true)
        print(line.text)
    }

    private func row(_ title: String, _ t: Timing, _ mb: Double, _ entries: Int, _ n: Int) {
        let perEntry = entries > 0 ? significant(t.microseconds / Double(entries)) + " µs/entry" : "-"
        print(padRight(title, 32) + padLeft(significant(t.microseconds), 12) + " µs  (min " + significant(t.minimum / 1000)
            + " µs, total " + significant(t.median * Double(n) / 1e6) + " ms)  " + significant(mb / t.seconds) + " MB/s  " + perEntry)
    }

    private func split(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    /// `.../[instances/NAME/]events/SYS/EVENT/hist` gives the labels the exporter would use.
    private func labels() -> [Label] {
        let parts = path.split(separator: "/").map(String.init)
        let n = parts.count
        if n >= 4, parts[n - 1] == "hist", parts[n - 4] == "events" {
            let instance = n >= 6 && parts[n - 6] == "instances" ? parts[n - 5] : ""
            return [Label("tracefs_instance", instance), Label("system", parts[n - 3]), Label("event", parts[n - 2])]
        }
        return [Label("tracefs_instance", ""), Label("system", "file"), Label("event", parts.last ?? path)]
    }

    /// The event's `format` beside its `hist`, which the collector reads once and caches.
    private func format(_ fs: TraceFS, _ name: String) -> EventFormat? {
        guard name == "hist", let bytes = try? fs.read("format") else { return nil }
        return EventFormat.parse(String(decoding: bytes, as: UTF8.self))
    }
}
