import Exporter
import Exposition
import HistFormat

/// What the exporter does with one hist file's bytes, split into the phases the benchmark
/// times: parse (HistParser, and the signedness of the event's format when known), map
/// (the collector's per-table code: configured or discovery mapping, health families,
/// sorting), encode (text 0.0.4).
struct ExporterWork {
    var fileLabels: [Label]
    var mapping: MetricMapping?
    var triggerSet = ""
    var pidLabels = false
    var seriesLimit = ConfigLoader.defaultDiscoverySeriesLimit
    var format: EventFormat?

    func parse(_ bytes: [UInt8]) throws(HistParseError) -> HistFile {
        let file = try HistParser.parse(bytes)
        if let format { return file.applyingSignedness(of: format) }
        return file
    }

    func map(_ file: HistFile) -> [MetricFamily] {
        var budget = seriesLimit
        return HistMapping.scrapeFamilies(
            of: file.blocks, fileLabels: fileLabels, mapping: mapping, triggerSet: triggerSet, pidLabels: pidLabels,
            discoveryBudget: &budget)
    }

    func encode(_ families: [MetricFamily]) -> [UInt8] {
        ExpositionEncoder.encode(families, format: .text004)
    }

    /// All three; returns the exposition's size.
    func all(_ bytes: [UInt8]) throws(HistParseError) -> Int {
        encode(map(try parse(bytes))).count
    }
}

extension Array where Element == MetricFamily {
    var seriesCount: Int { reduce(0) { $0 + $1.metrics.count + $1.blocks.reduce(0) { $0 + $1.count } } }
}
