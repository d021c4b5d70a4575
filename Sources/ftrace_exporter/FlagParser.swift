/// What a command line asks for.
enum Invocation: Equatable {
    case run(Flags)
    case help
    case version
}

/// A command line the flags do not describe. It is printed with the usage line, and the
/// command exits 2 as for every usage or configuration error.
struct UsageError: Error, Equatable {
    let message: String
    /// The name of the flag the problem is with, whose help is printed below the message.
    var flag: String?

    init(_ message: String, flag: String? = nil) {
        self.message = message
        self.flag = flag
    }
}

/// Parses `--flag value` and `--flag=value`, as the Prometheus exporters take them; the last
/// of a repeated flag wins, except for a repeatable one, which takes them all. `--help` (`-h`) and `--version` win over everything else, so they
/// answer even next to a mistake.
enum FlagParser {
    static func parse(_ arguments: [String], definitions: [FlagDefinition] = FlagDefinition.all) -> Result<Invocation, UsageError> {
        let options = arguments.prefix { $0 != "--" }
        if options.contains("--help") || options.contains("-h") { return .success(.help) }
        if options.contains("--version") { return .success(.version) }

        var flags = Flags()
        var listed: Set<String> = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                if index < arguments.count { return .failure(UsageError("Unexpected argument '\(arguments[index])'")) }
                break
            }
            guard argument.hasPrefix("-"), argument != "-" else { return .failure(UsageError("Unexpected argument '\(argument)'")) }
            var name = argument
            var attached: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                attached = String(argument[argument.index(after: equals)...])
            }
            guard let definition = definitions.first(where: { $0.name == name }) else {
                return .failure(UsageError("Unknown option '\(name)'"))
            }
            guard definition.valueName != nil else {
                if let attached {
                    return .failure(UsageError("The option '\(name)' does not take any value, but '\(attached)' was specified."))
                }
                if case .toggle(let path) = definition.target { flags[keyPath: path] = true }
                continue
            }
            let value: String
            if let attached {
                value = attached
            } else if index < arguments.count, !looksLikeAFlag(arguments[index]) {
                value = arguments[index]
                index += 1
            } else {
                return .failure(UsageError("Missing value for '\(definition.synopsis)'", flag: name))
            }
            switch definition.target {
            case .text(let path): flags[keyPath: path] = value
            case .optionalText(let path): flags[keyPath: path] = value
            case .number(let path):
                guard let number = Int(value) else {
                    return .failure(UsageError("The value '\(value)' is invalid for '\(definition.synopsis)'", flag: name))
                }
                flags[keyPath: path] = number
            case .toggle(let path): flags[keyPath: path] = true
            case .list(let path):
                if listed.insert(name).inserted { flags[keyPath: path] = [] }
                flags[keyPath: path].append(value)
            }
        }
        return .success(.run(flags))
    }

    /// A flag, not a value: `--flag value` never takes `--other` as the value (write
    /// `--flag=--other` for that), so a forgotten value is named, not silently filled.
    static func looksLikeAFlag(_ argument: String) -> Bool {
        argument.hasPrefix("-") && argument != "-"
    }
}

/// The texts `--help` and a usage error print.
struct CommandHelp {
    let command: String
    let overview: String
    var definitions: [FlagDefinition] = FlagDefinition.all

    static let width = 80
    /// Where the description column starts: after the flag, or on the next line for long flags.
    static let descriptionColumn = 26

    var usageLine: String { "\(command) <options>" }

    var text: String {
        var lines = wrap("OVERVIEW: \(overview)", width: Self.width)
        lines += ["", "USAGE: \(usageLine)", "", "OPTIONS:"]
        for definition in definitions {
            let help = definition.defaultText.map { "\(definition.help) (default: \($0))" } ?? definition.help
            lines += entry(definition.synopsis, help)
        }
        lines += entry("--version", "Show the version.")
        lines += entry("-h, --help", "Show help information.")
        return lines.joined(separator: "\n") + "\n"
    }

    func usageErrorText(_ error: UsageError) -> String {
        var text = "Error: \(error.message)\n"
        if let name = error.flag, let definition = definitions.first(where: { $0.name == name }) {
            text += "Help:  \(definition.synopsis)  \(definition.help)\n"
        }
        return text + "Usage: \(usageLine)\n  See '\(command) --help' for more information.\n"
    }

    func entry(_ synopsis: String, _ help: String) -> [String] {
        let left = "  " + synopsis
        let padding = String(repeating: " ", count: Self.descriptionColumn)
        var lines = wrap(help, width: Self.width - Self.descriptionColumn).map { padding + $0 }
        if left.count < Self.descriptionColumn - 1 {
            lines[0] = left + String(repeating: " ", count: Self.descriptionColumn - left.count) + lines[0].dropFirst(Self.descriptionColumn)
        } else {
            lines.insert(left, at: 0)
        }
        return lines
    }

    /// Words greedily filled into lines of at most `width` characters (a longer word gets a
    /// line of its own).
    func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += line.isEmpty ? String(word) : " " + word
        }
        lines.append(line)
        return lines
    }
}
