import Foundation
import StackFormats
import Testing

@Suite struct PprofProfileTests {
    static let delay = SampleType(type: "delay", unit: "nanoseconds")

    static func profile() -> StackProfile {
        var profile = StackProfile(sampleTypes: [.samples, delay], samples: [
            StackSample(frames: ["leaf+0x1/0x10", "nf_hook_slow+0x3d/0xb0 [nf_tables]", "root+0x0/0x4"], values: [3, 300]),
            StackSample(frames: ["other+0x1/0x10", "root+0x0/0x4"], values: [1, -5]),
        ])
        profile.periodType = .samples
        profile.period = 1
        profile.timeNanos = 1_764_800_000_000_000_000
        profile.durationNanos = 5_000_000_000
        return profile
    }

    /// Field by field, as the wire format lays it out: the first sample type opens the message.
    @Test func theWireBytesStartWithTheSampleTypes() {
        let bytes = PprofProfile.encode(Self.profile())
        // field 1, length-delimited, 4 bytes: type = string 1, unit = string 2
        #expect(Array(bytes.prefix(6)) == [0x0A, 0x04, 0x08, 0x01, 0x10, 0x02])
    }

    @Test func anEmptyProfileHasItsStringTable() {
        let bytes = PprofProfile.encode(StackProfile(sampleTypes: [.samples], samples: []))
        #expect(bytes == [0x0A, 0x04, 0x08, 0x01, 0x10, 0x02, 0x32, 0x00, 0x32, 0x07] + Array("samples".utf8) + [0x32, 0x05] + Array("count".utf8))
    }

    /// The real protobuf compiler decodes the bytes against google/pprof's own profile.proto.
    @Test func protocDecodesTheProfile() throws {
        guard let protoc = StackFixtures.tool("protoc") else {
            #expect(!StackFixtures.isCI, "protoc (protobuf-compiler) is required in CI")
            return
        }
        let proto = StackFixtures.fixtures.appendingPathComponent("pprof")
        let decoded = try StackFixtures.run(
            protoc, ["--decode=perftools.profiles.Profile", "--proto_path=\(proto.path)", "profile.proto"],
            input: PprofProfile.encode(Self.profile()))
        #expect(decoded.status == 0, "\(decoded.err)")
        let text = String(decoding: decoded.out, as: UTF8.self)
        let message = DecodedProfile(text)
        #expect(message.strings.first == "")
        #expect(message.sampleTypes == [["samples", "count"], ["delay", "nanoseconds"]])
        #expect(message.functions.map(\.name) == ["leaf", "nf_hook_slow [nf_tables]", "root", "other"])
        #expect(message.functions[1].systemName == "nf_hook_slow")
        #expect(message.functions[1].filename == "nf_tables")
        // Leaf first, values per sample type; a negative sum stays negative.
        #expect(message.samples.map(\.stack) == [["leaf", "nf_hook_slow [nf_tables]", "root"], ["other", "root"]])
        #expect(message.samples.map(\.values) == [[3, 300], [1, -5]])
        #expect(text.contains("time_nanos: 1764800000000000000"))
        #expect(text.contains("duration_nanos: 5000000000"))
        #expect(text.contains("period: 1"))
    }

    @Test func theCorpusTableDecodes() throws {
        guard let protoc = StackFixtures.tool("protoc") else {
            #expect(!StackFixtures.isCI, "protoc (protobuf-compiler) is required in CI")
            return
        }
        let profile = try StackFixtures.corpusProfile()
        let decoded = try StackFixtures.run(
            protoc, ["--decode=perftools.profiles.Profile", "--proto_path=\(StackFixtures.fixtures.appendingPathComponent("pprof").path)", "profile.proto"],
            input: PprofProfile.encode(profile))
        #expect(decoded.status == 0, "\(decoded.err)")
        let message = DecodedProfile(String(decoding: decoded.out, as: UTF8.self))
        #expect(message.samples.count == profile.stacks.count)
        #expect(message.samples.reduce(0) { $0 + $1.values[0] } == profile.total(0))
        #expect(message.samples.allSatisfy { $0.stack.first == "__schedule" }, "every sched_switch stack ends in __schedule")
        #expect(Set(message.functions.map(\.name)).count == message.functions.count, "one function per name")
    }
}

/// What `protoc --decode` printed, with the string-table indices resolved.
struct DecodedProfile {
    struct Function { var id: Int; var name: String; var systemName: String; var filename: String }
    var strings: [String] = []
    var sampleTypes: [[String]] = []
    var functions: [Function] = []
    var samples: [(stack: [String], values: [Int64])] = []

    init(_ text: String) {
        // Top-level messages as their fields; nested messages (a location's line) flattened.
        var blocks: [(name: String, fields: [(String, String)])] = []
        var depth = 0
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasSuffix("{") {
                if depth == 0 { blocks.append((String(line.dropLast(2)), [])) }
                depth += 1
            } else if line == "}" {
                depth -= 1
            } else if let colon = line.firstIndex(of: ":") {
                let field = (String(line[..<colon]), String(line[line.index(colon, offsetBy: 2)...]))
                if depth == 0 { blocks.append((field.0, [field])) } else { blocks[blocks.count - 1].fields.append(field) }
            }
        }
        func unquoted(_ s: String) -> String { String(s.dropFirst().dropLast()) }
        strings = blocks.filter { $0.name == "string_table" }.map { unquoted($0.fields[0].1) }
        func string(_ index: String?) -> String { index.flatMap(Int.init).map { strings[$0] } ?? "" }
        func value(_ fields: [(String, String)], _ name: String) -> String? { fields.first { $0.0 == name }?.1 }
        for block in blocks {
            switch block.name {
            case "sample_type": sampleTypes.append([string(value(block.fields, "type")), string(value(block.fields, "unit"))])
            case "function":
                functions.append(Function(
                    id: Int(value(block.fields, "id") ?? "") ?? 0, name: string(value(block.fields, "name")),
                    systemName: string(value(block.fields, "system_name")), filename: string(value(block.fields, "filename"))))
            default: break
            }
        }
        let functionNames = Dictionary(uniqueKeysWithValues: functions.map { ($0.id, $0.name) })
        var names: [Int: String] = [:]
        for block in blocks where block.name == "location" {
            names[Int(value(block.fields, "id") ?? "") ?? 0] = functionNames[Int(value(block.fields, "function_id") ?? "") ?? 0]
        }
        for block in blocks where block.name == "sample" {
            samples.append((block.fields.filter { $0.0 == "location_id" }.map { names[Int($0.1)!] ?? "?" },
                            block.fields.filter { $0.0 == "value" }.map { Int64($0.1)! }))
        }
    }
}
