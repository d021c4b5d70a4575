/// The distinct series of a table as tuples of label ids (one id per `LabelColumn`), in
/// first-seen order, found again through an open-addressing hash table on the ids: a series
/// lookup hashes a few integers instead of an array of label strings.
struct SeriesIndex {
    /// Ids per series.
    let width: Int
    /// Series after series, `width` ids each.
    private(set) var ids: [Int32] = []
    private(set) var count = 0
    /// Series number + 1 per slot, 0 where empty; kept under half full.
    private var slots: [Int32]
    private var mask: Int

    init(width: Int, expected: Int = 0) {
        self.width = width
        var capacity = 16
        while capacity < expected * 2 && capacity < 1 << 30 { capacity <<= 1 }
        slots = [Int32](repeating: 0, count: capacity)
        mask = capacity - 1
        ids.reserveCapacity(min(expected, 1 << 20) * width)
    }

    /// The series with these ids, if it is known.
    func series(_ tuple: [Int32]) -> Int? {
        var slot = Self.hash(tuple) & mask
        while true {
            let stored = Int(slots[slot])
            if stored == 0 { return nil }
            if matches(stored - 1, tuple) { return stored - 1 }
            slot = (slot + 1) & mask
        }
    }

    /// Adds a series not yet known; returns its number.
    @discardableResult
    mutating func append(_ tuple: [Int32]) -> Int {
        if (count + 1) * 2 > slots.count { grow() }
        let series = count
        ids.append(contentsOf: tuple)
        count += 1
        place(series, hash: Self.hash(tuple))
        return series
    }

    func id(_ series: Int, _ position: Int) -> Int32 { ids[series * width + position] }

    /// Series numbers ordered by their label values, given each column's ranks.
    func sorted(by ranks: [[Int32]]) -> [Int] {
        guard width > 0, count > 1 else { return Array(0..<count) }
        if let packed = sortedPacked(by: ranks) { return packed }
        var order = Array(0..<count)
        ids.withUnsafeBufferPointer { ids in
            order.sort { a, b in
                for p in 0..<width {
                    let ra = ranks[p][Int(ids[a * width + p])]
                    let rb = ranks[p][Int(ids[b * width + p])]
                    if ra != rb { return ra < rb }
                }
                return false
            }
        }
        return order
    }

    /// The same order from one sort of plain integers, where every series' ranks and its
    /// number fit in 64 bits together (tables of up to millions of series with few columns):
    /// the ranks, most significant first, then the number. Series have distinct label values,
    /// so no two keys tie on the ranks.
    private func sortedPacked(by ranks: [[Int32]]) -> [Int]? {
        func bits(_ n: Int) -> Int { n <= 1 ? 0 : Int.bitWidth - (n - 1).leadingZeroBitCount }
        let rankBits = ranks.map { bits($0.count) }
        let seriesBits = bits(count)
        guard rankBits.reduce(seriesBits, +) <= 64 else { return nil }
        var keys = [UInt64](repeating: 0, count: count)
        ids.withUnsafeBufferPointer { ids in
            for series in 0..<count {
                var key: UInt64 = 0
                for p in 0..<width {
                    key = key << UInt64(rankBits[p]) | UInt64(ranks[p][Int(ids[series * width + p])])
                }
                keys[series] = key << UInt64(seriesBits) | UInt64(series)
            }
        }
        keys.sort()
        let mask: UInt64 = seriesBits == 0 ? 0 : (1 << UInt64(seriesBits)) - 1
        return keys.map { Int($0 & mask) }
    }

    private func matches(_ series: Int, _ tuple: [Int32]) -> Bool {
        let base = series * width
        for p in 0..<width where ids[base + p] != tuple[p] { return false }
        return true
    }

    private mutating func place(_ series: Int, hash: Int) {
        var slot = hash & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(series + 1)
    }

    private mutating func grow() {
        slots = [Int32](repeating: 0, count: slots.count * 2)
        mask = slots.count - 1
        for series in 0..<count {
            place(series, hash: Self.hash(ids[series * width..<(series + 1) * width]))
        }
    }

    private static func hash<C: Collection>(_ tuple: C) -> Int where C.Element == Int32 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15
        for id in tuple {
            h = (h ^ UInt64(UInt32(bitPattern: id))) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 29
        }
        return Int(truncatingIfNeeded: h ^ (h >> 32))
    }
}
