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
        }
    }

    /// Consuming, so each family's metrics are sorted in place rather than copied first.
    /// The sort is stable and finds runs already in order (the mappers emit sorted runs).
    consuming func build() -> [MetricFamily] {
        var list = Array(families.values)
        families = [:]
        list.sort { $0.name < $1.name }
        for i in list.indices {
            list[i].metrics.sort { labelsPrecede($0.labels, $1.labels) }
        }
        return list
    }
}

func labelsPrecede(_ a: [Label], _ b: [Label]) -> Bool {
    for (x, y) in zip(a, b) {
        if x.name != y.name { return x.name < y.name }
        if x.value != y.value { return x.value < y.value }
    }
    return a.count < b.count
}
