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
}
