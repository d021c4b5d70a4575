/// The frames of a flame graph: stacks merged into a tree of calls, root (`all`) at depth 0,
/// each frame as wide as its value's share of the whole, callees in name order from the left
/// as flamegraph.pl lays them out.
struct FlameGraphLayout {
    struct Frame {
        var name: String
        var depth: Int
        /// Where the frame starts and how wide it is, in value units from the left edge.
        var start: Int64
        var value: Int64
    }

    /// Frames in drawing order: by depth, then from the left.
    let frames: [Frame]
    let total: Int64
    /// Frames left out for being narrower than the minimum width or past the cap.
    let omitted: Int

    /// Keeps the frames at least `minimumFraction` of the whole wide, at most `maximumFrames`
    /// of them (the widest; a callee is never wider than its caller, so a kept frame's
    /// callers are kept too). Negative values count as 0.
    init(_ profile: StackProfile, column: Int, minimumFraction: Double, maximumFrames: Int) {
        var names: [String] = ["all"]
        var depths: [Int] = [0]
        var values: [Int64] = [0]
        var children: [[String: Int]] = [[:]]
        for stack in profile.stacks {
            let value = max(stack.values[column], 0)
            guard value > 0 else { continue }
            var node = 0
            values[0] = StackProfile.saturatingSum(values[0], value)
            for frame in stack.frames {
                if let child = children[node][frame] {
                    node = child
                } else {
                    let child = names.count
                    names.append(frame)
                    depths.append(depths[node] + 1)
                    values.append(0)
                    children.append([:])
                    children[node][frame] = child
                    node = child
                }
                values[node] = StackProfile.saturatingSum(values[node], value)
            }
        }
        total = values[0]
        guard total > 0 else {
            frames = []
            omitted = 0
            return
        }

        // Starts: each node's callees side by side from its own start, in name order.
        var starts = Array(repeating: Int64(0), count: names.count)
        var pending = [0]
        while let node = pending.popLast() {
            var x = starts[node]
            for child in children[node].sorted(by: { $0.key < $1.key }).map(\.value) {
                starts[child] = x
                x = StackProfile.saturatingSum(x, values[child])
                pending.append(child)
            }
        }

        let minimum = Double(total) * minimumFraction
        var kept = names.indices.filter { Double(values[$0]) >= minimum }
        if kept.count > maximumFrames {
            kept.sort { values[$0] != values[$1] ? values[$0] > values[$1] : depths[$0] < depths[$1] }
            kept.removeSubrange(maximumFrames...)
        }
        kept.sort { depths[$0] != depths[$1] ? depths[$0] < depths[$1] : starts[$0] < starts[$1] }
        frames = kept.map { Frame(name: names[$0], depth: depths[$0], start: starts[$0], value: values[$0]) }
        omitted = names.count - kept.count
    }
}
