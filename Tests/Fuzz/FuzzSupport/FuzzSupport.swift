import Exposition
import Foundation

// What every fuzz target shares: replaying inputs without libFuzzer, and invariant checks that
// stop the process with a message libFuzzer records next to the input.

/// Runs `body` once on each file named on the command line, or on each file of a named
/// directory, so a crash or hang found by the fuzzer reproduces with an ordinary debug build
/// (`swift run fuzz_hist .fuzz/fuzz_hist/crash-...`).
public func replayInputs(_ body: ([UInt8]) -> Void) -> Never {
    let arguments = CommandLine.arguments
    let name = arguments.first.map { ($0 as NSString).lastPathComponent } ?? "fuzz"
    let paths = arguments.dropFirst().filter { !$0.hasPrefix("-") }
    if paths.isEmpty {
        FileHandle.standardError.write(Data("""
            usage: \(name) FILE|DIR...
            Runs each input once. Built with -sanitize=fuzzer (scripts/fuzz), this is a libFuzzer target instead.

            """.utf8))
        exit(2)
    }
    var files: [String] = []
    for path in paths {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            FileHandle.standardError.write(Data("\(name): no such file: \(path)\n".utf8))
            exit(2)
        }
        if isDirectory.boolValue {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            files += entries.sorted().map { (path as NSString).appendingPathComponent($0) }
        } else {
            files.append(path)
        }
    }
    for file in files {
        guard let data = FileManager.default.contents(atPath: file) else { continue }
        body(Array(data))
    }
    print("\(name): \(files.count) inputs ran without a finding")
    exit(0)
}

/// The fuzzer's bytes as an array; libFuzzer may pass a null pointer for the empty input.
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// Stops the process when an invariant fails. Unlike `precondition`, it also stops release
/// builds and always prints the message.
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                    file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("invariant violated: \(message())", file: file, line: line) }
}

/// Where a parse error may point: a 1-based line of the input, and a byte column within that
/// line or just past its end.
public struct LineTable {
    private var lengths: [Int] = []

    public init(_ bytes: [UInt8]) {
        var length = 0
        for b in bytes {
            if b == 0x0A {
                lengths.append(length)
                length = 0
            } else {
                length += 1
            }
        }
        lengths.append(length)
    }

    public var count: Int { lengths.count }

    public func contains(line: Int, column: Int) -> Bool {
        guard line >= 1 && line <= lengths.count else { return false }
        return column >= 1 && column <= lengths[line - 1] + 1
    }
}

/// Checks what must hold for any exposition the exporter serves: one family per name, valid
/// metric and label names, no repeated series, and histograms whose buckets can be read as one.
public func checkFamilies(_ families: [MetricFamily]) {
    var names: Set<String> = []
    for family in families {
        require(names.insert(family.name).inserted, "family \(family.name) appears twice")
        require(isMetricName(family.name), "family name '\(family.name)' is not a valid metric name")
        var series: Set<[Label]> = []
        for metric in family.allMetrics {
            var labelNames: Set<String> = []
            for label in metric.labels {
                require(isLabelName(label.name), "\(family.name): label name '\(label.name)' is not valid")
                require(label.name != "le" || family.type != .histogram, "\(family.name): histogram with its own 'le' label")
                require(labelNames.insert(label.name).inserted, "\(family.name): label \(label.name) twice in one series")
            }
            require(series.insert(metric.labels.sorted { $0.name < $1.name }).inserted,
                    "\(family.name): series \(metric.labels) appears twice")
            switch metric.value {
            case .counter(let v):
                require(family.type == .counter, "\(family.name): counter value in a \(family.type) family")
                require(v.isFinite && v >= 0, "\(family.name): counter value \(v)")
            case .gauge(let v):
                require(family.type == .gauge, "\(family.name): gauge value in a \(family.type) family")
                require(!v.isNaN, "\(family.name): gauge value NaN")
            case .info:
                require(family.type == .info, "\(family.name): info value in a \(family.type) family")
            case .unknown:
                break
            case .histogram(let buckets, let sum, let count):
                require(family.type == .histogram, "\(family.name): histogram value in a \(family.type) family")
                require(count.isFinite && count >= 0, "\(family.name): _count \(count)")
                require(!sum.isNaN, "\(family.name): _sum NaN")
                var previous: HistogramBucket?
                for bucket in buckets {
                    require(!bucket.upperBound.isNaN, "\(family.name): bucket bound NaN")
                    require(bucket.cumulativeCount.isFinite && bucket.cumulativeCount >= 0,
                            "\(family.name): bucket count \(bucket.cumulativeCount)")
                    if let previous {
                        require(bucket.upperBound > previous.upperBound,
                                "\(family.name) \(metric.labels): bucket bounds not ascending: \(previous.upperBound), \(bucket.upperBound)")
                        require(bucket.cumulativeCount >= previous.cumulativeCount,
                                "\(family.name) \(metric.labels): buckets not cumulative at le=\(bucket.upperBound)")
                    }
                    previous = bucket
                }
                if let last = buckets.last {
                    require(last.cumulativeCount <= count, "\(family.name) \(metric.labels): a bucket holds more than _count")
                }
            }
        }
    }
}

/// Checks text 0.0.4 or OpenMetrics bytes line by line: comments, then samples made of a
/// metric name, an optional label set with properly escaped values, and a number.
public func checkExpositionText(_ bytes: [UInt8], openMetrics: Bool) {
    require(String(validating: bytes, as: UTF8.self) != nil, "exposition is not UTF-8")
    require(bytes.isEmpty || bytes.last == 0x0A, "exposition does not end with a newline")
    var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
    if lines.last?.isEmpty == true { lines.removeLast() }
    if openMetrics { require(lines.last.map { Array($0) } == Array("# EOF".utf8), "OpenMetrics without '# EOF'") }
    for line in lines {
        let text = String(decoding: line, as: UTF8.self)
        if line.first == UInt8(ascii: "#") {
            require(text.hasPrefix("# HELP ") || text.hasPrefix("# TYPE ") || text.hasPrefix("# UNIT ") || text == "# EOF",
                    "unexpected comment line: \(text)")
            continue
        }
        require(isSampleLine(Array(line)), "malformed sample line: \(text)")
    }
}

func isSampleLine(_ line: [UInt8]) -> Bool {
    var i = 0
    let nameStart = i
    while i < line.count, isNameByte(line[i], first: i == nameStart, colon: true) { i += 1 }
    guard i > nameStart else { return false }
    if i < line.count && line[i] == UInt8(ascii: "{") {
        i += 1
        while i < line.count && line[i] != UInt8(ascii: "}") {
            let labelStart = i
            while i < line.count, isNameByte(line[i], first: i == labelStart, colon: false) { i += 1 }
            guard i > labelStart, i + 1 < line.count, line[i] == UInt8(ascii: "="), line[i + 1] == UInt8(ascii: "\"") else { return false }
            i += 2
            while i < line.count && line[i] != UInt8(ascii: "\"") {
                if line[i] == UInt8(ascii: "\\") {
                    guard i + 1 < line.count, [UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "n")].contains(line[i + 1]) else {
                        return false
                    }
                    i += 1
                }
                i += 1
            }
            guard i < line.count else { return false }
            i += 1
            if i < line.count && line[i] == UInt8(ascii: ",") { i += 1 }
        }
        guard i < line.count else { return false }
        i += 1
    }
    guard i < line.count, line[i] == UInt8(ascii: " ") else { return false }
    let fields = line[(i + 1)...].split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
    guard fields.count == 1 || fields.count == 2 else { return false }
    let value = String(decoding: fields[0], as: UTF8.self)
    return Double(value) != nil || ["+Inf", "-Inf", "NaN"].contains(value)
}

func isNameByte(_ b: UInt8, first: Bool, colon: Bool) -> Bool {
    if (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || b == 0x5F { return true }
    if colon && b == UInt8(ascii: ":") { return true }
    return !first && b >= 0x30 && b <= 0x39
}

public func isMetricName(_ s: String) -> Bool {
    let bytes = Array(s.utf8)
    return !bytes.isEmpty && bytes.enumerated().allSatisfy { isNameByte($1, first: $0 == 0, colon: true) }
}

public func isLabelName(_ s: String) -> Bool {
    let bytes = Array(s.utf8)
    return !bytes.isEmpty && bytes.enumerated().allSatisfy { isNameByte($1, first: $0 == 0, colon: false) }
}
