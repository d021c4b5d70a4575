import Exporter
import HTTPServer
import Platform
import StackFormats

/// The hist tables the exporter reads, and a stack table's stacks as a flame graph, pprof
/// profile or folded text: stacks are read here rather than exported as labels, where every
/// distinct stack would be a series.
extension WebApplication {
    enum StackFormat: String {
        case svg, folded, pprof
    }

    /// What `?format=`, `?value=` and `?unit=` ask for.
    struct StackQuery: Equatable {
        var format = StackFormat.svg
        var value: String?
        var unit = "count"

        /// pprof's units that tools convert between, and `count`.
        static let units: Set<String> = ["count", "bytes", "nanoseconds", "microseconds", "milliseconds", "seconds"]
        static let maximumValueBytes = 64

        /// Refuses parameters it does not know, given twice, or with values out of their sets,
        /// instead of ignoring them: a misspelt `value` would silently draw the hit counts.
        init(_ query: String?) throws(StackQueryError) {
            guard let query, !query.isEmpty else { return }
            var seen: Set<String> = []
            for pair in query.split(separator: "&", omittingEmptySubsequences: false) {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(parts[0].prefix(40))
                guard parts.count == 2 else { throw StackQueryError("parameter '\(key)' has no value") }
                let value = String(parts[1].prefix(Self.maximumValueBytes + 1))
                guard seen.insert(key).inserted else { throw StackQueryError("\(key) is given twice") }
                switch key {
                case "format":
                    guard let format = StackFormat(rawValue: value) else {
                        throw StackQueryError("format must be svg, folded or pprof; got '\(value.prefix(40))'")
                    }
                    self.format = format
                case "value":
                    guard value.utf8.count <= Self.maximumValueBytes, !value.isEmpty,
                          value.utf8.allSatisfy({ isIdentifierByte($0) })
                    else { throw StackQueryError("value must name one of the table's value columns (letters, digits, '_')") }
                    self.value = value
                case "unit":
                    guard Self.units.contains(value) else {
                        throw StackQueryError("unit must be one of \(Self.units.sorted().joined(separator: ", ")); got '\(value.prefix(40))'")
                    }
                    unit = value
                default:
                    throw StackQueryError("the stacks take format, value and unit (such as ?format=pprof&value=delay&unit=nanoseconds); got '\(key)'")
                }
            }
        }
    }

    struct StackQueryError: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    func addTableRoutes(to router: Router) {
        router.add("GET", "/api/v1/tables", replying: { [self] request, _ in
            admin(request, action: "tables", set: nil) { [self] in
                (200, .object([("tables", .array(refresher.collector.tables.map(Self.tableJSON)))]))
            }
        })
        router.add("GET", "/api/v1/tables/{id}/stacks", replying: { [self] request, p in
            stacks(request, table: p["id"] ?? "")
        })
    }

    static func stacksPath(_ table: HistTableListing) -> String { "/api/v1/tables/\(table.id)/stacks" }

    static func tableJSON(_ table: HistTableListing) -> JSON {
        .object([
            ("id", .string(table.id)),
            ("instance", .string(table.instance.label)),
            ("event", .string(table.event.description)),
            ("trigger", .string(table.trigger)),
            ("entries", .number(Double(table.entries))),
            ("trigger_set", table.set.map(JSON.string) ?? .null),
            ("values", .array(table.values.map(JSON.string))),
            ("has_stack", .bool(table.stackKey != nil)),
            ("stack_key", table.stackKey.map(JSON.string) ?? .null),
            ("stacks", table.stackKey == nil ? .null : .string(stacksPath(table))),
            ("read_at", .string(utcTimestamp(unixSeconds: table.readAt))),
        ])
    }

    func stacks(_ request: HTTPRequest, table id: String) -> HTTPReply {
        let gzip = acceptsGzip(request.header("accept-encoding"))
        return authorized(request, action: "stacks", set: nil) { [self] in
            let query: StackQuery
            do throws(StackQueryError) {
                query = try StackQuery(request.query)
            } catch {
                return finish(request, "stacks", nil, 400, .object([("error", .string(error.message))]))
            }
            let collector = refresher.collector
            let profile: StackProfile
            do throws(StackTableError) {
                profile = try collector.stackProfile(table: id, value: query.value, unit: query.unit)
            } catch {
                return finish(request, "stacks", nil, error.httpStatus, .object([("error", .string(error.description))]))
            }
            count(request, "stacks", nil, 200, result: "ok")
            let table = collector.tables.first { $0.id == id }
            return Self.stacksResponse(profile, query: query, title: table.map(Self.title) ?? id, gzip: gzip)
        }
    }

    /// "sched/sched_switch hist:keys=stacktrace:..." with the trigger cut to stay one line.
    static func title(_ table: HistTableListing) -> String {
        let trigger = table.trigger.count > 120 ? table.trigger.prefix(118) + ".." : Substring(table.trigger)
        return "\(table.event) \(trigger)"
    }

    /// The value drawn is the one asked for, else the hit count; pprof carries both.
    static func stacksResponse(_ profile: StackProfile, query: StackQuery, title: String, gzip: Bool) -> HTTPResponse {
        let column = profile.sampleTypes.count - 1
        switch query.format {
        case .pprof:
            return HTTPResponse(status: 200, headers: [
                ("Content-Type", "application/octet-stream"),
                ("Content-Disposition", "attachment; filename=\"profile.pb.gz\""),
            ], body: .bytes(Gzip.compress(PprofProfile.encode(profile))))
        case .folded:
            return text(FoldedStacks.render(profile, column: column), contentType: "text/plain; charset=utf-8", gzip: gzip)
        case .svg:
            let graph = FlameGraph(title: title).render(profile, column: column)
            var response = text(graph, contentType: "image/svg+xml", gzip: gzip)
            // The graph's own style and script only: nothing a name could smuggle in loads.
            response.headers.append(("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"))
            return response
        }
    }

    private static func text(_ bytes: [UInt8], contentType: String, gzip: Bool) -> HTTPResponse {
        var headers: [(name: String, value: String)] = [("Content-Type", contentType), ("X-Content-Type-Options", "nosniff"), ("Vary", "Accept-Encoding")]
        guard gzip else { return HTTPResponse(status: 200, headers: headers, body: .bytes(bytes)) }
        headers.append(("Content-Encoding", "gzip"))
        return HTTPResponse(status: 200, headers: headers, body: .bytes(Gzip.compress(bytes)))
    }
}

private func isIdentifierByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
        return true
    default:
        return false
    }
}

extension WebApplication {
    /// The landing page's list of stack tables, each linked to its flame graph and the other
    /// formats; empty when no table the exporter reads has a stack key.
    func stackTablesSection() -> String {
        let tables = refresher.collector.tables.filter { $0.stackKey != nil }
        guard !tables.isEmpty else { return "" }
        var items = ""
        for table in tables {
            let path = html(Self.stacksPath(table))
            items += "<li><a href=\"\(path)?format=svg\">flame graph</a> (<a href=\"\(path)?format=folded\">folded</a>, "
                + "<a href=\"\(path)?format=pprof\">pprof</a>) <code>\(html(table.instance.label.isEmpty ? "" : table.instance.label + ": "))"
                + "\(html(table.event.description))</code> <code>\(html(table.trigger))</code></li>\n"
        }
        return "<h2>Stack tables</h2>\n<p>Bearer token required.</p>\n<ul>\n\(items)</ul>\n"
    }
}
