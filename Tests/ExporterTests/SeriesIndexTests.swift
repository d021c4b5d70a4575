import Testing
@testable import Exporter

/// Series come out in the order of their label ranks, column by column, whether the ranks
/// and series numbers fit one 64-bit key or not.
struct SeriesIndexTests {
    private func check(width: Int, distinct: Int, series: Int, seed: UInt64) {
        var rng = SplitMix(seed)
        var index = SeriesIndex(width: width)
        var seen = Set<[Int32]>()
        while index.count < series {
            let tuple = (0..<width).map { _ in Int32(rng.next() % UInt64(distinct)) }
            if seen.insert(tuple).inserted { index.append(tuple) }
        }
        // Ranks: a permutation of the ids per column.
        let ranks = (0..<width).map { _ in (0..<Int32(distinct)).shuffled(using: &rng) }
        let expected = (0..<series).sorted { a, b in
            for p in 0..<width {
                let ra = ranks[p][Int(index.id(a, p))], rb = ranks[p][Int(index.id(b, p))]
                if ra != rb { return ra < rb }
            }
            return false
        }
        #expect(index.sorted(by: ranks) == expected, "width \(width), \(distinct) values")
    }

    @Test func ranksThatFitOneKey() {
        check(width: 3, distinct: 50, series: 2000, seed: 1)
        check(width: 1, distinct: 5000, series: 3000, seed: 2)
    }

    @Test func ranksTooWideForOneKey() {
        // 5 columns of 8192 values: 65 bits of ranks.
        check(width: 5, distinct: 8192, series: 3000, seed: 3)
    }

    @Test func oneValueColumnsTakeNoBits() {
        check(width: 2, distinct: 1, series: 1, seed: 4)
        var index = SeriesIndex(width: 2)
        index.append([0, 0])
        index.append([0, 1])
        #expect(index.sorted(by: [[0], [1, 0]]) == [1, 0])
    }
}

private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
