import YAML

/// A YAML node with the path that led to it, so every error names file, line and field.
package struct YAMLField {
    package let node: YAMLNode
    package let path: String
    package let file: String

    package init(node: YAMLNode, path: String, file: String) {
        self.node = node
        self.path = path
        self.file = file
    }

    package func error(_ message: String) -> ConfigError {
        ConfigError(file: file, line: node.mark.line, column: node.mark.column, field: path, message: message)
    }

    package func child(_ key: String, _ node: YAMLNode) -> YAMLField {
        YAMLField(node: node, path: path.isEmpty ? key : "\(path).\(key)", file: file)
    }

    /// The mapping's entries; an unknown or repeated key is an error, as a typo must
    /// never silently fall back to a default.
    package func mapping(allowed: [String]) throws(ConfigError) -> [String: YAMLField] {
        if isNull { return [:] }
        guard let mapping = node.mapping else { throw error(Self.expectedMapping(allowed)) }
        var fields: [String: YAMLField] = [:]
        for pair in mapping {
            guard let key = pair.key.scalar else {
                throw YAMLField(node: pair.key, path: path, file: file).error("keys must be plain strings")
            }
            let keyField = YAMLField(node: pair.key, path: path.isEmpty ? key : "\(path).\(key)", file: file)
            guard allowed.contains(key) else {
                throw keyField.error("unknown field; allowed here: \(allowed.joined(separator: ", "))")
            }
            guard fields[key] == nil else { throw keyField.error("given twice") }
            fields[key] = child(key, pair.value)
        }
        return fields
    }

    package static func expectedMapping(_ allowed: [String]) -> String {
        "expected a mapping with keys \(allowed.joined(separator: ", "))"
    }

    /// An empty value (`key:`, `~`, `null`) reads as absent content.
    package var isNull: Bool {
        guard case .scalar(let text, .plain) = node.content else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(text)
    }

    package func sequence() throws(ConfigError) -> [YAMLField] {
        if isNull { return [] }
        guard let sequence = node.sequence else { throw error("expected a list") }
        return sequence.enumerated().map { YAMLField(node: $1, path: "\(path)[\($0)]", file: file) }
    }

    package func string() throws(ConfigError) -> String {
        guard let scalar = node.scalar else { throw error("expected a string") }
        if isNull { return "" }
        return scalar
    }

    package func bool() throws(ConfigError) -> Bool {
        guard let scalar = node.scalar else { throw error("expected true or false") }
        switch scalar {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: throw error("expected true or false, got '\(scalar)'")
        }
    }

    package func int(minimum: Int) throws(ConfigError) -> Int {
        guard let text = node.scalar, let value = Int(text) else { throw error("expected a whole number") }
        guard value >= minimum else { throw error("must be at least \(minimum), got \(value)") }
        return value
    }

    package func double() throws(ConfigError) -> Double {
        guard let text = node.scalar, let value = Double(text), value.isFinite else {
            throw error("expected a finite number")
        }
        return value
    }
}
