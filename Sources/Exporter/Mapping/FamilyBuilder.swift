import Exposition

/// Collects metrics into families by name, then hands them out in a stable order:
/// families by name, metrics by their label values.
struct FamilyBuilder {
    private var families: [String: MetricFamily] = [:]

    mutating func declare(_ name: String, help: String, type: MetricType) {
        if families[name] == nil { families[name] = MetricFamily(name: name, help: help, type: type, metrics: []) }
    }

    mutating func add(_ name: String, help: String, type: MetricType, labels: [Label], value: MetricValue) {
        declare(name, help: help, type: type)
        families[name]!.metrics.append(Metric(labels: labels, value: value))
    }

    mutating func add(_ family: MetricFamily) {
        if families[family.name] == nil {
            families[family.name] = family
        } else {
            families[family.name]!.metrics += family.metrics
            families[family.name]!.blocks += family.blocks
        }
    }

    /// Consuming, so each family's metrics are sorted in place rather than copied first.
    /// The sort is stable and finds runs already in order (the mappers emit sorted runs).
    consuming func build() -> [MetricFamily] {
        var list = Array(families.values)
        families = [:]
        list.sort { $0.name < $1.name }
        for i in list.indices {
            list[i].blocks.removeAll { $0.count == 0 }
            list[i].blocks.sort { labelsPrecede($0.prefix, $1.prefix) }
            if !Self.blocksAreInOrder(list[i]) {
                // Series of several sources that interleave: sorted one by one, as metrics.
                list[i].metrics += list[i].blocks.flatMap { $0.metrics(as: list[i].type) }
                list[i].blocks = []
            }
            list[i].metrics.sort { labelsPrecede($0.labels, $1.labels) }
        }
        return list
    }

    /// Whether the family's series are in label order when its blocks, sorted by prefix, are
    /// written one after the other: no metrics among them and no two blocks that interleave.
    private static func blocksAreInOrder(_ family: MetricFamily) -> Bool {
        guard !family.blocks.isEmpty else { return true }
        guard family.metrics.isEmpty else { return false }
        return zip(family.blocks, family.blocks.dropFirst()).allSatisfy { $0.isSeparate(from: $1) }
    }
}

func labelsPrecede(_ a: [Label], _ b: [Label]) -> Bool {
    for (x, y) in zip(a, b) {
        if x.name != y.name { return x.name < y.name }
        if x.value != y.value { return x.value < y.value }
    }
    return a.count < b.count
}
