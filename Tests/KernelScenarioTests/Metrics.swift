/// A scrape in the Prometheus text format, read into samples: enough of the format for the
/// exporter's own output (no timestamps), which `promtool check metrics` lints separately.
struct Metrics {
    struct Sample {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    let text: String
    let samples: [Sample]

    init(_ text: String) {
        self.text = text
        samples = text.split(separator: "\n").compactMap { line in line.hasPrefix("#") ? nil : Self.sample(Substring(line)) }
    }

    /// The samples of `name` whose labels include every one of `labels`.
    func samples(_ name: String, _ labels: [String: String] = [:]) -> [Sample] {
        samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
    }

    /// The sum of those samples (0 when there are none).
    func sum(_ name: String, _ labels: [String: String] = [:]) -> Double {
        samples(name, labels).reduce(0) { $0 + $1.value }
    }

    /// The largest of those samples (0 when there are none).
    func maximum(_ name: String, _ labels: [String: String] = [:], where keep: (Sample) -> Bool = { _ in true }) -> Double {
        samples(name, labels).filter(keep).map(\.value).max() ?? 0
    }

    /// Whether the exposition holds the series with exactly this value.
    func has(_ name: String, _ labels: [String: String], value: Double) -> Bool {
        samples.contains { $0.name == name && $0.labels == labels && $0.value == value }
    }

    func hasFamily(_ name: String) -> Bool { samples.contains { $0.name == name } }

    /// `name{a="x",b="y"} value`, label values with the format's escapes (\\, \", \n).
    private static func sample(_ line: Substring) -> Sample? {
        var rest = line[...]
        let name = rest.prefix { $0 != "{" && $0 != " " }
        guard !name.isEmpty else { return nil }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                if rest.first == "," { rest = rest.dropFirst(); continue }
                let key = rest.prefix { $0 != "=" }
                rest = rest.dropFirst(key.count)
                guard rest.hasPrefix("=\"") else { return nil }
                rest = rest.dropFirst(2)
                var value = ""
                while let c = rest.first, c != "\"" {
                    rest = rest.dropFirst()
                    if c == "\\", let escaped = rest.first {
                        rest = rest.dropFirst()
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(c)
                    }
                }
                guard !rest.isEmpty else { return nil }
                rest = rest.dropFirst()
                labels[String(key)] = value
            }
            rest = rest.dropFirst()
        }
        let fields = rest.split(separator: " ")
        guard let first = fields.first, let value = Double(first) ?? goValue(first) else { return nil }
        return Sample(name: String(name), labels: labels, value: value)
    }

    /// The spellings Go's strconv writes that Swift's Double(String) does not read.
    private static func goValue(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default: return nil
        }
    }
}
