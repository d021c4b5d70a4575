import Foundation

/// The repository README, cut into the parts the reference tests hold to the code.
struct Readme {
    let text: String

    init() throws {
        text = try String(contentsOf: Fixtures.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
    }

    /// The lines from `heading` (a whole line, e.g. `## Metrics`) to the next heading of the
    /// same or a higher level; empty when there is no such heading.
    func section(_ heading: String) -> [Substring] {
        let level = heading.prefix { $0 == "#" }.count
        var lines: [Substring] = []
        var inside = false
        var inFence = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { inFence.toggle() }
            if !inFence && !line.hasPrefix("```") && line.hasPrefix("#") {
                let hashes = line.prefix { $0 == "#" }.count
                if inside && hashes <= level { break }
                if line == heading { inside = true }
            }
            if inside { lines.append(line) }
        }
        return lines
    }

    /// The first fenced block of `language` in `lines`.
    static func fencedBlock(_ language: String, in lines: [Substring]) -> String? {
        guard let start = lines.firstIndex(where: { $0 == "```" + language }),
              let end = lines[(start + 1)...].firstIndex(where: { $0.hasPrefix("```") })
        else { return nil }
        return lines[(start + 1)..<end].joined(separator: "\n") + "\n"
    }

    /// The markdown tables in `lines`, each as its header cells and its body rows' cells.
    static func tables(in lines: [Substring]) -> [(header: [String], rows: [[String]])] {
        var tables: [(header: [String], rows: [[String]])] = []
        var current: [[String]] = []
        func flush() {
            // A header, the |---| line, then rows.
            if current.count >= 2 { tables.append((current[0], Array(current.dropFirst(2)))) }
            current = []
        }
        for line in lines {
            if line.hasPrefix("|") { current.append(cells(line)) } else { flush() }
        }
        flush()
        return tables
    }

    /// A table row's cells, trimmed; `|` inside a code span does not split a cell.
    static func cells(_ line: Substring) -> [String] {
        var cells: [String] = []
        var cell = ""
        var inCode = false
        for c in line.dropFirst() {
            if c == "`" { inCode.toggle() }
            if c == "|" && !inCode {
                cells.append(cell.trimmingCharacters(in: .whitespaces))
                cell = ""
            } else {
                cell.append(c)
            }
        }
        return cells
    }

    /// The text of every code span in `text`.
    static func codeSpans(_ text: String) -> [String] {
        text.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }
}
