import Locking

/// The series of one table beyond its limit, rolled up into one `other` series, kept from one
/// refresh to the next so that every counter, `other` included, only goes up.
///
/// A label set keeps its own series once it has one, for as long as the table has it. A new
/// one gets a series while there are fewer than the limit less one (the last is `other`'s);
/// once rolled into `other` it stays there, or `other` would go back when it left. When a
/// rolled-up label set leaves the table (its cgroup removed), the counts it had stay in
/// `other`.
final class SeriesRollUp: @unchecked Sendable {
    private struct State {
        var own: Set<[String]> = []
        var rolled: [[String]: Any] = [:]
        var retired: Any?
    }

    private let state = Locked(State())
    /// Label value for the columns of the `other` series; the pod and container columns a
    /// cgroup label adds are empty there.
    static let otherValue = "other"

    init() {}

    /// Which of `series` (label values, with their counts) keep their own series under
    /// `limit`, and the counts of `other`: the rest summed, with what rolled-up label sets
    /// that left had. `other` is nil while nothing was ever rolled up.
    func split<T>(_ series: [(labels: [String], value: T)], limit: Int, add: (inout T, T) -> Void) -> (own: [Bool], other: T?) {
        state.withLock { s in
            let present = Set(series.map(\.labels))
            s.own.formIntersection(present)
            for (labels, value) in s.rolled where !present.contains(labels) {
                if var retired = s.retired as? T, let value = value as? T {
                    add(&retired, value)
                    s.retired = retired
                } else {
                    s.retired = value
                }
                s.rolled[labels] = nil
            }
            var own: [Bool] = []
            own.reserveCapacity(series.count)
            var other = s.retired as? T
            for (labels, value) in series {
                if s.own.contains(labels) || (s.rolled[labels] == nil && s.own.count < limit - 1 && s.own.insert(labels).inserted) {
                    own.append(true)
                    continue
                }
                own.append(false)
                s.rolled[labels] = value
                if var sum = other {
                    add(&sum, value)
                    other = sum
                } else {
                    other = value
                }
            }
            return (own, other)
        }
    }

    /// Label sets rolled up into `other` now.
    var rolledCount: Int { state.withLock { $0.rolled.count } }

    /// Forgets everything: the table's counters start again (emptied by another hand).
    func reset() { state.withLock { $0 = State() } }
}
