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

    func build() -> [MetricFamily] {
        families.values.sorted { $0.name < $1.name }.map { family in
            var sorted = family
            sorted.metrics.sort { labelsPrecede($0.labels, $1.labels) }
            return sorted
        }
    }
}

func labelsPrecede(_ a: [Label], _ b: [Label]) -> Bool {
    for (x, y) in zip(a, b) {
        if x.name != y.name { return x.name < y.name }
        if x.value != y.value { return x.value < y.value }
    }
    return a.count < b.count
}
