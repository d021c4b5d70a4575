import FuzzSupport
import HistFormat

// One line of trigger text, as read back from a `trigger` file or a hist header, or as
// written in a configuration. Errors must carry the position they were given; a parsed
// trigger must parse again from its own text to the same trigger, and every derived view
// (identity, key kinds, printed values, saved fields) must be computable.

enum TriggerInfoTarget {
    static func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let line = 1 + bytes.count % 7
        let column = 1 + bytes.count % 13
        let info: TriggerInfo
        do {
            info = try TriggerInfo.parse(text, line: line, column: column)
        } catch {
            require(error.line == line && error.column == column, "error \(error) not at the given place \(line):\(column)")
            if case .invalidTriggerInfo = error.kind {} else { require(false, "error of kind \(error.kind)") }
            return
        }
        require(!info.keys.isEmpty, "parsed without keys: \(text)")

        // A text that still ends in a state suffix loses it on a second parse, as a read-back
        // has only one; for every other text, parsing its own text must give the same trigger.
        if !info.text.hasSuffix(" [active]") && !info.text.hasSuffix(" [paused]") {
            let again: TriggerInfo
            do {
                again = try TriggerInfo.parse(info.text)
            } catch {
                require(false, "its own text does not parse: \(error): \(info.text)")
                return
            }
            require(again.identity == info.identity, "identity changes on a second parse of \(info.text)")
            var expected = info
            expected.state = nil
            require(again == expected, "a second parse differs: \(again) vs \(expected)")
        }

        for spec in info.keys + info.values + info.sort {
            require(FieldSpec(parsing: spec.description) == spec, "field '\(spec.description)' does not read back as \(spec)")
            _ = spec.keyKind
            _ = spec.canonicalName
            if let size = spec.bucketSize { require(size > 0, "a .buckets=0 key") }
        }
        _ = info.printedValues
        _ = info.effectiveValues
        _ = info.savedFieldNames
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTriggerInfo(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    TriggerInfoTarget.run(fuzzBytes(data, size))
    return 0
}

#if !FUZZING
@main enum Replay {
    static func main() { replayInputs(TriggerInfoTarget.run) }
}
#endif
