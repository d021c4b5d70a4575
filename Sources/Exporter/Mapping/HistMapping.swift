import Exposition
import HistFormat

/// The mapping of one table by its `metric:` block, for callers outside the collector.
public enum HistMapping {
    public static func map(_ block: HistBlock, with mapping: MetricMapping) -> [MetricFamily] {
        ConfiguredTableMapper(mapping: mapping).map(block).families
    }

    /// The families and how many label sets the series limit left out.
    public static func mapCounting(_ block: HistBlock, with mapping: MetricMapping) -> (families: [MetricFamily], seriesOverLimit: Int) {
        let output = ConfiguredTableMapper(mapping: mapping).map(block)
        return (output.families, output.seriesOverLimit)
    }

    /// The value column the mapping reads that an entry of the table lacks, if any: the
    /// collector then reports the table as failing rather than export what it would map.
    public static func missingColumn(_ block: HistBlock, for mapping: MetricMapping) -> String? {
        ConfiguredTableMapper(mapping: mapping).map(block).missingColumn
    }

    /// Everything a hist file's tables contribute to a scrape, in the order a scrape serves it:
    /// for each table, the families of `mapping` (when given) or discovery's generic families (when not),
    /// plus the table's own health families, merged and sorted as a scrape sorts them. The
    /// collector runs the same code for each table; this entry point is for tools and
    /// benchmarks that want the exporter's work on bytes they already hold.
    ///
    /// `fileLabels` are `tracefs_instance`, `system` and `event`; `discoveryBudget` is the
    /// discovery series limit still available, and is used up by discovered tables.
    public static func scrapeFamilies(
        of blocks: [HistBlock], fileLabels: [Label], mapping: MetricMapping? = nil, triggerSet: String = "",
        pidLabels: Bool = false, stackLabels: Bool = false, discoveryBudget: inout Int
    ) -> [MetricFamily] {
        var families = FamilyBuilder()
        let owner = mapping.map { TableOwner(set: triggerSet, mapping: $0) }
        let discovery = DiscoveryMapper(pidLabels: pidLabels, stackLabels: stackLabels)
        for block in blocks {
            _ = HistCollector.addTable(
                block, fileLabels: fileLabels, owner: owner, discovery: discovery,
                discoveryBudget: &discoveryBudget, into: &families)
        }
        return families.build()
    }
}

/// The trigger set that owns a table, and its mapping if it has one.
struct TableOwner {
    var set: String
    var mapping: MetricMapping?
}
