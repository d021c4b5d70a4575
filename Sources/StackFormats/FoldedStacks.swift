/// The folded-stack text flamegraph.pl, speedscope and inferno read: one `root;...;leaf value`
/// line per distinct stack.
public enum FoldedStacks {
    /// Lines in the profile's order; stacks whose value in `column` is 0 are left out, as the
    /// tools ignore them. `;` and line breaks inside a frame name, which would split it, are
    /// written as `_`.
    public static func render(_ profile: StackProfile, column: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        for stack in profile.stacks where stack.values[column] != 0 {
            for (i, frame) in stack.frames.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ";")) }
                for byte in frame.utf8 {
                    let separator = byte == UInt8(ascii: ";") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
                    out.append(separator ? UInt8(ascii: "_") : byte)
                }
            }
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: String(stack.values[column]).utf8)
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }
}
