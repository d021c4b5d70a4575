/// A profile as pprof's `perftools.profiles.Profile` protobuf (google/pprof proto/profile.proto),
/// uncompressed; the format's files are gzipped, which is the caller's part.
///
/// Offsets are gone by now, so a location is a function: one `Function` and one `Location`
/// with the same id per distinct name. A name with a module, `func [mod]`, keeps it in the
/// function's name (as the folded text does) and gives `func` as its system name and the
/// module as its file name.
public enum PprofProfile {
    public static func encode(_ profile: StackProfile) -> [UInt8] {
        var strings = StringTable()
        let sampleTypes = profile.sampleTypes.map { (strings.index($0.type), strings.index($0.unit)) }
        let periodType = profile.periodType.map { (strings.index($0.type), strings.index($0.unit)) }

        var functionIDs: [String: Int64] = [:]
        var functions: [(id: Int64, name: Int64, systemName: Int64, filename: Int64)] = []
        var samples: [(locations: [Int64], values: [Int64])] = []
        samples.reserveCapacity(profile.stacks.count)
        for stack in profile.stacks {
            var locations: [Int64] = []
            locations.reserveCapacity(stack.frames.count)
            for frame in stack.frames.reversed() {
                if let id = functionIDs[frame] {
                    locations.append(id)
                    continue
                }
                let id = Int64(functions.count + 1)
                functionIDs[frame] = id
                let parts = StackFrame.parts(frame)
                functions.append((id, strings.index(frame), strings.index(parts.function), strings.index(parts.module ?? "")))
                locations.append(id)
            }
            samples.append((locations, stack.values))
        }

        var out = ProtobufWriter()
        for (type, unit) in sampleTypes {
            out.message(1) { $0.int(1, type); $0.int(2, unit) }
        }
        for sample in samples {
            out.message(2) { $0.packed(1, sample.locations); $0.packed(2, sample.values) }
        }
        for function in functions {
            out.message(4) { location in
                location.int(1, function.id)
                location.message(4) { $0.int(1, function.id) }
            }
        }
        for function in functions {
            out.message(5) {
                $0.int(1, function.id)
                $0.int(2, function.name)
                $0.int(3, function.systemName)
                $0.int(4, function.filename)
            }
        }
        for string in strings.strings { out.string(6, string) }
        if let time = profile.timeNanos { out.int(9, time) }
        if let duration = profile.durationNanos { out.int(10, duration) }
        if let (type, unit) = periodType {
            out.message(11) { $0.int(1, type); $0.int(2, unit) }
        }
        out.int(12, profile.period)
        return out.bytes
    }

    /// pprof's string table: indices in order of first use, "" at 0 as the format requires.
    private struct StringTable {
        private(set) var strings: [String] = [""]
        private var indices: [String: Int64] = ["": 0]

        mutating func index(_ string: String) -> Int64 {
            if let known = indices[string] { return known }
            let index = Int64(strings.count)
            strings.append(string)
            indices[string] = index
            return index
        }
    }
}
