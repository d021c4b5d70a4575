/// Frame names as flame graphs and profiles show them: the kernel prints each frame as
/// `func+0xoff/0xsize [module]`, and the offset differs between call sites of the same
/// function, so it is dropped for equal functions to merge; the module stays, after a space.
public enum StackFrame {
    /// `func+0x1f/0x80 [mod]` -> `func [mod]`; a frame without an offset is kept as printed.
    public static func functionName(_ frame: String) -> String {
        var out: [UInt8] = []
        appendFunctionName(frame, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// A function name split into the function and its module: `func [mod]` -> (`func`, `mod`);
    /// the kernel's own functions have no module.
    public static func parts(_ name: String) -> (function: String, module: String?) {
        let bytes = Array(name.utf8)
        guard bytes.last == UInt8(ascii: "]"), let open = bytes.lastIndex(of: UInt8(ascii: "[")), open > 0, open < bytes.count - 2
        else { return (name, nil) }
        let end = bytes[open - 1] == UInt8(ascii: " ") ? open - 1 : open
        return (String(decoding: bytes[..<end], as: UTF8.self), String(decoding: bytes[(open + 1)..<(bytes.count - 1)], as: UTF8.self))
    }

    /// `functionName` as UTF-8 bytes. Kernel symbols are ASCII, where `+` and `[` are
    /// single bytes and single characters alike; anything else takes the Character path,
    /// where a combining mark after `+` would make it another character.
    public static func appendFunctionName(_ frame: String, into out: inout [UInt8]) {
        var frame = frame
        let handled: Bool = frame.withUTF8 { bytes in
            var plus = -1
            var bracket = -1
            for (i, byte) in bytes.enumerated() {
                if byte >= 0x80 { return false }
                if byte == UInt8(ascii: "+") && plus < 0 { plus = i }
                if byte == UInt8(ascii: "[") && bracket < 0 { bracket = i }
            }
            guard plus >= 0 else {
                out.append(contentsOf: bytes)
                return true
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[..<plus]))
            if bracket > plus {
                out.append(UInt8(ascii: " "))
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[bracket...]))
            }
            return true
        }
        if !handled { out.append(contentsOf: characterFunctionName(frame).utf8) }
    }

    private static func characterFunctionName(_ frame: String) -> String {
        guard let plus = frame.firstIndex(of: "+") else { return frame }
        let name = frame[..<plus]
        if let bracket = frame.firstIndex(of: "["), bracket > plus { return name + " " + frame[bracket...] }
        return String(name)
    }

    /// Root first, `;`-separated, offsets dropped: one line's stack in the folded format.
    public static func folded(_ frames: [String]) -> String {
        var out: [UInt8] = []
        var capacity = frames.count
        for frame in frames { capacity += frame.utf8.count }
        out.reserveCapacity(capacity)
        for frame in frames.reversed() {
            if !out.isEmpty { out.append(UInt8(ascii: ";")) }
            appendFunctionName(frame, into: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
