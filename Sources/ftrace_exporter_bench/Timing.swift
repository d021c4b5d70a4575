/// How long each figure is measured for, and how.
struct TimingPlan {
    /// Wall time to spend on one figure's timed repetitions, in seconds.
    var secondsPerFigure = 0.75
    /// A median of fewer than this many runs says little; slow figures still get them.
    var minimumRepetitions = 5
    var maximumRepetitions = 1_000_000
}

struct Timing {
    var repetitions: Int
    /// Median of the repetitions, nanoseconds.
    var median: Double
    var minimum: Double

    var microseconds: Double { median / 1000 }
    var seconds: Double { median / 1e9 }
}

/// Warms up (one run, more while under 50 ms), sizes N from the warm-up so the timed runs
/// take about `plan.secondsPerFigure`, then returns the median of N single-run timings.
func measure(_ plan: TimingPlan, _ body: () -> Int) -> Timing {
    var warmupRuns = 0
    let warmupStart = now()
    var elapsed: UInt64 = 0
    repeat {
        consume(body())
        warmupRuns += 1
        elapsed = now() &- warmupStart
    } while elapsed < 50_000_000 && warmupRuns < 1000
    let perRun = Double(elapsed) / Double(warmupRuns)
    let wanted = Int(plan.secondsPerFigure * 1e9 / max(perRun, 1))
    let n = min(plan.maximumRepetitions, max(plan.minimumRepetitions, wanted))
    var samples: [UInt64] = []
    samples.reserveCapacity(n)
    for _ in 0..<n {
        let start = now()
        consume(body())
        samples.append(now() &- start)
    }
    return summarize(samples)
}

func summarize(_ samples: [UInt64]) -> Timing {
    let sorted = samples.sorted()
    let mid = sorted.count / 2
    let median = sorted.count % 2 == 1 ? Double(sorted[mid]) : (Double(sorted[mid - 1]) + Double(sorted[mid])) / 2
    return Timing(repetitions: sorted.count, median: median, minimum: Double(sorted.first ?? 0))
}
