/// The protobuf wire encoding of the few field kinds a pprof profile uses: varints, packed
/// varints, strings and nested messages.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    private enum WireType: UInt64 {
        case varint = 0
        case lengthDelimited = 2
    }

    private mutating func key(_ field: Int, _ type: WireType) {
        varint(UInt64(field) << 3 | type.rawValue)
    }

    private mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// An int64 or uint64 field; proto3 leaves a zero out.
    mutating func int(_ field: Int, _ value: Int64) {
        guard value != 0 else { return }
        key(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    mutating func bool(_ field: Int, _ value: Bool) {
        int(field, value ? 1 : 0)
    }

    /// A repeated int64 or uint64 field, packed as proto3 writes it.
    mutating func packed(_ field: Int, _ values: [Int64]) {
        guard !values.isEmpty else { return }
        var body = ProtobufWriter()
        for value in values { body.varint(UInt64(bitPattern: value)) }
        lengthDelimited(field, body.bytes)
    }

    /// A string field, written even when empty: the string table's first entry must be "".
    mutating func string(_ field: Int, _ value: String) {
        lengthDelimited(field, Array(value.utf8))
    }

    mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var body = ProtobufWriter()
        build(&body)
        lengthDelimited(field, body.bytes)
    }

    private mutating func lengthDelimited(_ field: Int, _ body: [UInt8]) {
        key(field, .lengthDelimited)
        varint(UInt64(body.count))
        bytes.append(contentsOf: body)
    }
}
