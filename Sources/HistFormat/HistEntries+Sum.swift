extension HistEntries {
    /// The entries of two readings of one trigger's table added up: an entry whose keys both
    /// have gets the sum of their hitcounts and numeric values, the others come as they are.
    /// What a table held before the kernel cleared it, added to what it holds since, is what
    /// it would hold had it never been cleared.
    public func adding(_ other: HistEntries) -> HistEntries {
        guard !other.isEmpty else { return self }
        guard !isEmpty else { return other }
        var position: [[KeyValue]: Int] = [:]
        position.reserveCapacity(count)
        for (i, entry) in enumerated() { position[entry.keys.map(\.value)] = i }
        var extra = Array(repeating: Optional<HistEntry>.none, count: count)
        var unmatched: [HistEntry] = []
        for entry in other {
            if let i = position[entry.keys.map(\.value)] { extra[i] = entry } else { unmatched.append(entry) }
        }
        var sum = HistEntries()
        sum.reserve(entries: count + unmatched.count, keysPerEntry: first?.keys.count ?? 0, valuesPerEntry: first?.values.count ?? 0)
        for (i, entry) in enumerated() {
            guard let more = extra[i] else {
                sum.append(entry)
                continue
            }
            entry.keys.forEach { sum.appendKey($0) }
            for value in entry.values {
                let added = more.values.first { $0.name == value.name }.map { value.reading.adding($0.reading) } ?? value.reading
                sum.appendValue(HistValue(name: value.name, reading: added))
            }
            entry.actions.forEach { sum.appendAction($0) }
            let hitcount = entry.hitcount.map { $0 &+ (more.hitcount ?? 0) }
            sum.finishEntry(hitcount: hitcount)
        }
        unmatched.forEach { sum.append($0) }
        return sum
    }

    /// The entries `isIncluded` keeps, in their order.
    public func filter(_ isIncluded: (HistEntry) -> Bool) -> HistEntries {
        var kept = HistEntries()
        for entry in self where isIncluded(entry) { kept.append(entry) }
        return kept
    }

    mutating func append(_ entry: HistEntry) {
        entry.keys.forEach { appendKey($0) }
        entry.values.forEach { appendValue($0) }
        entry.actions.forEach { appendAction($0) }
        finishEntry(hitcount: entry.hitcount)
    }
}

extension ValueReading {
    /// The sum of two readings of one column; a reading with no number behind it (`.graph`,
    /// `.percent`) is a share of its own table and cannot be added, so the first stands.
    func adding(_ other: ValueReading) -> ValueReading {
        switch (self, other) {
        case (.number(let a), .number(let b)): return .number(a &+ b)
        case (.hex(let a), .hex(let b)): return .hex(a &+ b)
        case (.signed(let a), .signed(let b)): return .signed(a &+ b)
        default: return self
        }
    }
}
