@testable import Exporter
import Testing
import YAML

/// Every key the configuration loader accepts is documented in the README's "Configuration"
/// section, in the place a reader looks for it; and the loader reads each section with the
/// keys `ConfigSection` lists, so this test sees what the loader really accepts.
@Suite struct ConfigReferenceTests {
    /// The README's configuration reference: its YAML example and its `metric` fields table.
    struct Reference {
        let example: YAMLNode
        /// Field name -> the row's cells, from the `metric` fields table.
        let metricFields: [String: [String]]

        init() throws {
            let readme = try Readme()
            let configuration = readme.section("## Configuration")
            let yaml = try #require(Readme.fencedBlock("yaml", in: configuration), "a ```yaml example under ## Configuration")
            example = try #require(try YAMLDocument.parse(yaml))
            let table = try #require(
                Readme.tables(in: readme.section("### `metric` fields")).first { $0.header.first == "field" },
                "a | field | ... | table under ### `metric` fields")
            var fields: [String: [String]] = [:]
            for row in table.rows {
                guard let name = row.first.map(Readme.codeSpans)?.first else { continue }
                fields[name] = row
            }
            metricFields = fields
        }

        /// The keys of every mapping at `path` in the example (`[]` reaches every item of a list).
        func exampleKeys(at path: String) -> Set<String> {
            var nodes = [example]
            for part in path.split(separator: ".") {
                let isList = part.hasSuffix("[]")
                let key = isList ? String(part.dropLast(2)) : String(part)
                nodes = nodes.compactMap { $0.mapping?.first { $0.key.scalar == key }?.value }
                if isList { nodes = nodes.flatMap { $0.sequence ?? [] } }
            }
            return Set(nodes.flatMap { $0.mapping.map { $0.compactMap(\.key.scalar) } ?? [] })
        }

        /// The code spans in the meaning of the `metric` field `name`'s row.
        func spans(inRowOf name: String) -> Set<String> {
            Set((metricFields[name] ?? []).dropFirst().flatMap(Readme.codeSpans))
        }
    }

    /// Where the README documents each section. Adding a section fails to compile here until
    /// its documentation is placed.
    static func documented(_ section: ConfigSection, _ reference: Reference) -> (place: String, keys: Set<String>) {
        switch section {
        case .top, .tracefs, .discovery, .lifecycle, .rotation, .triggerSet, .breaker, .trigger:
            return ("the YAML example under \"## Configuration\", at \(section.path.isEmpty ? "the top level" : section.path)",
                    reference.exampleKeys(at: section.path))
        case .metric:
            return ("a row of the `metric` fields table", Set(reference.metricFields.keys))
        case .label:
            return ("the `labels` row of the `metric` fields table", reference.spans(inRowOf: "labels"))
        case .counterValue:
            return ("the `values` row of the `metric` fields table", reference.spans(inRowOf: "values"))
        }
    }

    @Test(arguments: ConfigSection.allCases)
    func everyKeyIsDocumented(_ section: ConfigSection) throws {
        let (place, keys) = Self.documented(section, try Reference())
        let missing = section.keys.filter { !keys.contains($0) }
        #expect(missing.isEmpty, "README.md does not document \(missing) of '\(section.path)' in \(place)")
    }

    @Test func everyLabelDecoderIsDocumented() throws {
        let spans = try Reference().spans(inRowOf: "labels")
        for decoder in LabelDecoder.allCases {
            #expect(spans.contains(decoder.rawValue), "decode: \(decoder.rawValue) in the `labels` row of README.md")
        }
    }

    /// An unknown key in each section is refused with exactly that section's keys as the
    /// allowed ones: the loader reads the section there, through `ConfigSection`.
    @Test(arguments: ConfigSection.allCases)
    func theLoaderAcceptsExactlyTheSectionsKeys(_ section: ConfigSection) {
        do {
            _ = try ConfigLoader.load(yaml: Self.yamlWithUnknownKey(in: section), file: "probe.yml")
            Issue.record("an unknown key in '\(section.path)' was accepted")
        } catch {
            #expect(error.field.hasSuffix("unknown_key"), "\(error)")
            #expect(error.message == "unknown field; allowed here: " + section.keys.joined(separator: ", "), "\(error)")
        }
    }

    static func yamlWithUnknownKey(in section: ConfigSection) -> String {
        let set = ["trigger_sets:", "  - name: probe"]
        let trigger = set + ["    triggers:", "      - event: kmem/kmalloc", "        command: \"hist:keys=call_site.sym:vals=bytes_req\""]
        let counter = trigger + ["        metric:", "          name: probe", "          help: probe", "          type: counter"]
        let lines: [String]
        switch section {
        case .top: lines = ["unknown_key: 1"]
        case .tracefs, .discovery, .lifecycle, .rotation: lines = ["\(section.path):", "  unknown_key: 1"]
        case .triggerSet: lines = set + ["    unknown_key: 1"]
        case .breaker: lines = set + ["    breaker:", "      max_events_per_second: 10", "      unknown_key: 1"]
        case .trigger: lines = set + ["    triggers:", "      - unknown_key: 1"]
        case .metric: lines = trigger + ["        metric:", "          unknown_key: 1"]
        case .label: lines = counter + ["          labels:", "            - unknown_key: 1"]
        case .counterValue: lines = counter + ["          values:", "            - unknown_key: 1"]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
