import Exporter
import ExporterWeb
import Exposition
import Foundation
import FuzzSupport
import HTTPServer
import Logging
import TraceFS
import TraceFSTesting

// A sequence of HTTP requests, handled the way the daemon hands them to the exporter (the web
// guard, then the router with the admin API) over an in-memory kernel, with no socket.
//
// Input: an optional first line of options, then requests separated by a line `~~~`:
//
//     @refresh @basic
//     POST /api/v1/trigger-sets/wakeup_latency/install?x=1
//     authorization: Bearer fuzz-token
//
//     body bytes
//     ~~~
//     GET /metrics
//
// Options: @noadmin (no token file), @listener (the separate admin listener's routes),
// @nohist (a kernel without CONFIG_HIST_TRIGGERS), @refresh (one refresh before the requests),
// @scrape (refresh on every scrape), @basic (basic auth for user `fuzz`, password
// `fuzz-password`), @fail:PATH:ERRNO and @ignore:PATH (the fake kernel fails or drops the next
// write to PATH).
//
// What must hold: a status the server can send and no 5xx beyond the documented ones; header
// fields a client can parse; JSON that parses; expositions a Prometheus server accepts; and no
// write to tracefs except by an authenticated admin action on an allow-listed set, with text
// taken from the configuration.

enum HTTPTarget {
    static let token = "fuzz-token"
    static let logger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
    static let config: ExporterConfig = {
        do { return try DefaultConfig.load() } catch { fatalError("the built-in configuration does not load: \(error)") }
    }()
    static let allowed = Set(config.triggerSets.map(\.name))
    static let plannedTexts: Set<String> = {
        var texts: Set<String> = []
        for set in config.triggerSets {
            for write in InstallPlan.install(set, instance: config.traceInstance) + InstallPlan.remove(set, instance: config.traceInstance) {
                if case .append(let text) = write.action { texts.insert(text) }
            }
            for trigger in set.triggers {
                for control in ["pause", "cont", "clear"] {
                    if let r = trigger.command.firstRange(of: " if ") {
                        texts.insert(String(trigger.command[..<r.lowerBound]) + ":" + control + String(trigger.command[r.lowerBound...]))
                    } else {
                        texts.insert(trigger.command + ":" + control)
                    }
                }
            }
        }
        return texts
    }()
    static let webConfig: (plain: WebConfig, basic: WebConfig) = {
        let headers = """
            http_server_config:
              headers:
                X-Content-Type-Options: nosniff
                X-Frame-Options: deny

            """
        let users = "basic_auth_users:\n  fuzz: $2y$04$dSWCuW0RnwdxYAHS9vXaIuJWPSVZGM6JI029eXshmIhCefTyvM/c6\n"
        do {
            return (try WebConfigLoader.load(yaml: headers, file: "/fuzz/web.yml"),
                    try WebConfigLoader.load(yaml: headers + users, file: "/fuzz/web.yml"))
        } catch {
            fatalError("the web configuration does not load: \(error)")
        }
    }()
    static let maximumRequests = 24
    /// Replays print each request and its answer.
    nonisolated(unsafe) static var trace = false

    struct Options {
        var admin = true
        var separateListener = false
        var histTriggers = true
        var refreshFirst = false
        var refreshOnScrape = false
        var basicAuth = false
        var faults: [(path: String, errno: Int32?)] = []
    }

    struct Request {
        var method: String
        var target: String
        var headers: [(name: String, value: String)]
        var body: [UInt8]
    }

    static func decode(_ bytes: [UInt8]) -> (Options, [Request]) {
        var options = Options()
        var rest = bytes[...]
        if rest.first == UInt8(ascii: "@") {
            let end = rest.firstIndex(of: 0x0A) ?? rest.endIndex
            for word in String(decoding: rest[..<end], as: UTF8.self).split(separator: " ") {
                switch word {
                case "@noadmin": options.admin = false
                case "@listener": options.separateListener = true
                case "@nohist": options.histTriggers = false
                case "@refresh": options.refreshFirst = true
                case "@scrape": options.refreshOnScrape = true
                case "@basic": options.basicAuth = true
                default:
                    let parts = word.split(separator: ":", omittingEmptySubsequences: false)
                    if parts.count == 3 && parts[0] == "@fail" {
                        options.faults.append((String(parts[1]), errnoValue(String(parts[2]))))
                    } else if parts.count == 2 && parts[0] == "@ignore" {
                        options.faults.append((String(parts[1]), nil))
                    }
                }
            }
            rest = end < rest.endIndex ? rest[(end + 1)...] : rest[end...]
        }
        var requests: [Request] = []
        for chunk in split(rest, on: Array("\n~~~\n".utf8)).prefix(maximumRequests) {
            requests.append(request(chunk))
        }
        return (options, requests)
    }

    static func errnoValue(_ name: String) -> Int32 {
        switch name {
        case "EBUSY": return EBUSY
        case "EEXIST": return EEXIST
        case "EINVAL": return EINVAL
        case "ENOENT": return ENOENT
        case "EACCES": return EACCES
        case "ENOMEM": return ENOMEM
        default: return Int32(name) ?? EIO
        }
    }

    static func split(_ bytes: ArraySlice<UInt8>, on separator: [UInt8]) -> [ArraySlice<UInt8>] {
        var chunks: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var i = bytes.startIndex
        while i + separator.count <= bytes.endIndex {
            if bytes[i..<(i + separator.count)].elementsEqual(separator) {
                chunks.append(bytes[start..<i])
                i += separator.count
                start = i
            } else {
                i += 1
            }
        }
        chunks.append(bytes[start...])
        return chunks
    }

    /// What libmicrohttpd can hand over: C strings, so no NUL, and no line breaks in the
    /// request line or header fields.
    static func field(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.filter { $0 != 0 && $0 != 0x0D && $0 != 0x0A }, as: UTF8.self)
    }

    static func request(_ chunk: ArraySlice<UInt8>) -> Request {
        var lines: [ArraySlice<UInt8>] = []
        var body: [UInt8] = []
        var start = chunk.startIndex
        var i = chunk.startIndex
        while i < chunk.endIndex {
            if chunk[i] == 0x0A {
                let line = chunk[start..<i]
                start = i + 1
                if line.isEmpty && !lines.isEmpty {
                    body = Array(chunk[start...])
                    start = chunk.endIndex
                    break
                }
                lines.append(line)
            }
            i += 1
        }
        if start < chunk.endIndex { lines.append(chunk[start...]) }
        let requestLine = lines.first ?? []
        let space = requestLine.firstIndex(of: 0x20) ?? requestLine.endIndex
        let method = field(requestLine[..<space])
        let target = space < requestLine.endIndex ? field(requestLine[(space + 1)...]) : ""
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
            var value = colon < line.endIndex ? line[(colon + 1)...] : []
            while value.first == 0x20 || value.first == 0x09 { value = value.dropFirst() }
            headers.append((field(line[..<colon]), field(value)))
        }
        return Request(method: method, target: target, headers: headers, body: body)
    }

    static func run(_ bytes: [UInt8]) {
        let (options, requests) = decode(bytes)
        let fs = FakeKernelTraceFS(features: options.histTriggers ? .full : .noHistTriggers)
        let configInUse = config.overriding(refreshInterval: options.refreshOnScrape ? 0 : 3600)
        let controller = TriggerController(fs: fs, config: configInUse, logger: logger)
        let collector = HistCollector(config: configInUse, reader: fs, logger: logger, features: fs.features(), clock: { 0 })
        let metrics = ExporterMetrics()
        let refresher = Refresher(collector: collector, controller: controller, metrics: metrics, logger: logger)
        let app = WebApplication(
            refresher: refresher, controller: controller, metrics: metrics,
            options: .init(adminAuth: options.admin ? AdminAuth(token: Array(token.utf8)) : nil, tracefsRoot: fs.root),
            logger: logger)
        let router = options.separateListener ? app.adminRouter() : app.router(includeAdmin: true)
        let guardian = WebGuard(config: options.basicAuth ? webConfig.basic : webConfig.plain,
                                adminBearerPassThrough: options.admin, logger: logger)
        for fault in options.faults {
            if let errno = fault.errno { fs.failNext(fault.path, with: errno) } else { fs.ignoreNextWrite(fault.path) }
        }
        if options.refreshFirst { refresher.refreshSharing() }

        for r in requests {
            let mark = r.target.utf8.firstIndex(of: UInt8(ascii: "?"))
            let request = HTTPRequest(
                method: r.method, path: mark.map { String(r.target[..<$0]) } ?? r.target,
                query: mark.map { String(r.target[r.target.utf8.index(after: $0)...]) },
                headers: r.headers, body: r.body, remoteAddress: "127.0.0.1:1")
            let writesBefore = fs.writes.count
            let response = guardian.handle(request) { router.handle($0) }
            let writes = fs.writes[writesBefore...]
            if trace {
                print("\(request.method) \(request.path) -> \(response.status), \(writes.count) writes: \(text(response.body).prefix(200))")
            }
            check(request, response, writes: Array(writes), options: options, ready: refresher.isReady)
        }
    }

    static func check(_ request: HTTPRequest, _ response: HTTPResponse, writes: [(path: String, text: String, result: Int32)],
                      options: Options, ready: Bool) {
        let what = "\(request.method) \(request.path) -> \(response.status)"
        require((200...599).contains(response.status), "\(what): not a status to send")
        for header in response.headers {
            require(!header.name.isEmpty && header.name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") },
                    "\(what): header name '\(header.name)'")
            require(!header.value.utf8.contains { $0 == 0 || $0 == 0x0D || $0 == 0x0A }, "\(what): header \(header.name) breaks the line")
        }
        if response.status == 405 { require(response.header("Allow") != nil, "\(what) without Allow") }
        if response.status == 401 { require(response.header("WWW-Authenticate") != nil, "\(what) without WWW-Authenticate") }

        let isAdmin = request.path.hasPrefix("/api/")
        if response.status >= 500 {
            let documented = (response.status == 503 && request.path == "/-/ready" && !ready)
                || (response.status == 503 && isAdmin && (!options.admin || !options.histTriggers))
                || (isAdmin && !options.faults.isEmpty)
            require(documented, "\(what): an undocumented server error: \(text(response.body).prefix(500))")
        }

        let body = bytes(response.body)
        if response.header("Content-Type") == "application/json" {
            require((try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])) != nil,
                    "\(what): JSON that does not parse: \(text(response.body).prefix(500))")
        }
        if response.status == 200, request.method == "GET", response.header("Content-Encoding") == nil,
           let type = response.header("Content-Type"), type.hasPrefix("text/plain; version=0.0.4") || type.hasPrefix("application/openmetrics-text") {
            checkExpositionText(body, openMetrics: type.hasPrefix("application/openmetrics-text"))
        }

        let authorization = request.header("authorization") ?? ""
        let authorized = options.admin && authorization.prefix(7).lowercased() == "bearer "
            && authorization.utf8.dropFirst(7).elementsEqual(token.utf8)
        if isAdmin && !authorized && options.admin {
            require([401, 404, 405, 429].contains(response.status), "\(what): an admin request without the token")
        }
        guard !writes.isEmpty else { return }
        require(authorized && request.method == "POST", "\(what): \(writes.count) tracefs writes by an unauthenticated or non-POST request")
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).removingPercentEncoding ?? ""
        }
        if segments != ["", "api", "v1", "remove-all"] {
            require(segments.count == 6 && segments[1] == "api" && segments[3] == "trigger-sets",
                    "\(what): tracefs writes from a request that is no set action")
            require(allowed.contains(segments[4]), "\(what): tracefs writes for '\(segments[4])', not in the allow-list")
        }
        for write in writes {
            require(plannedTexts.contains(write.text), "\(what): wrote '\(write.text)' to \(write.path), which the configuration does not hold")
        }
    }

    static func bytes(_ body: ResponseBody) -> [UInt8] {
        switch body {
        case .empty: return []
        case .bytes(let b): return b
        case .shared(let s): return s.bytes
        }
    }

    static func text(_ body: ResponseBody) -> String { String(decoding: bytes(body), as: UTF8.self) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    HTTPTarget.run(fuzzBytes(data, size))
    return 0
}

#if !FUZZING
@main enum Replay {
    static func main() {
        HTTPTarget.trace = true
        replayInputs(HTTPTarget.run)
    }
}
#endif
