import Exporter
import Exposition
import HTTPServer
import Logging
import TraceFS

/// The exporter's HTTP surface as routers: metrics, landing page and health on one side,
/// the admin API on the other (served on the same listener or on its own).
public final class WebApplication: Sendable {
    public struct Options: Sendable {
        public var telemetryPath: String
        /// nil: the admin API is off.
        public var adminAuth: AdminAuth?
        public var tracefsRoot: String
        public init(telemetryPath: String = "/metrics", adminAuth: AdminAuth? = nil, tracefsRoot: String) {
            self.telemetryPath = telemetryPath
            self.adminAuth = adminAuth
            self.tracefsRoot = tracefsRoot
        }
    }

    let refresher: Refresher
    let controller: TriggerController
    let metrics: ExporterMetrics
    let options: Options
    let logger: Logger
    let bodies = ScrapeBodies()

    public init(refresher: Refresher, controller: TriggerController, metrics: ExporterMetrics, options: Options, logger: Logger) {
        self.refresher = refresher
        self.controller = controller
        self.metrics = metrics
        self.options = options
        self.logger = logger
    }

    /// Routes for the metrics listener; with `includeAdmin`, the admin API too.
    public func router(includeAdmin: Bool) -> Router {
        let router = Router()
        router.add("GET", options.telemetryPath) { [self] request, _ in scrape(request) }
        router.add("GET", "/") { [self] _, _ in landingPage(adminHere: includeAdmin) }
        router.add("GET", "/-/healthy") { _, _ in .text(200, "Healthy\n") }
        router.add("GET", "/-/ready") { [self] _, _ in
            refresher.isReady ? .text(200, "Ready\n") : .text(503, "Not ready: the first refresh has not finished\n")
        }
        if includeAdmin { addAdminRoutes(to: router) }
        return router
    }

    /// Routes for a separate admin listener.
    public func adminRouter() -> Router {
        let router = Router()
        router.add("GET", "/-/healthy") { _, _ in .text(200, "Healthy\n") }
        addAdminRoutes(to: router)
        return router
    }

    // MARK: Metrics

    func scrape(_ request: HTTPRequest) -> HTTPResponse {
        let snapshot = refresher.snapshotForScrape()
        let format = ExpositionFormat.negotiate(accept: request.header("accept"))
        let gzip = acceptsGzip(request.header("accept-encoding"))
        var headers: [(name: String, value: String)] = [("Content-Type", format.contentType), ("Vary", "Accept, Accept-Encoding")]
        if gzip { headers.append(("Content-Encoding", "gzip")) }
        return HTTPResponse(status: 200, headers: headers, body: .shared(bodies.body(of: snapshot, format: format, gzip: gzip)))
    }

    /// `adminHere`: the admin API is served on this listener, so its links work here.
    func landingPage(adminHere: Bool) -> HTTPResponse {
        let statuses = controller.statuses()
        var rows = ""
        for s in statuses {
            let set = controller.config.triggerSet(named: s.name)
            rows += "<tr><td>\(html(s.name))</td><td>\(html(s.state.rawValue))</td><td>\(html(set?.description ?? ""))</td></tr>\n"
        }
        let admin = options.adminAuth == nil
            ? "<p>The admin API is off (start with <code>--admin.token-file</code> to enable it).</p>"
            : !adminHere
            ? "<p>The admin API is served on its own listener (<code>--admin.listen-address</code>), not on this one.</p>"
            : "<p>Admin API: <a href=\"/api/v1/status\">/api/v1/status</a>, <a href=\"/api/v1/trigger-sets\">/api/v1/trigger-sets</a> (Bearer token required).</p>"
        let page = """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>ftrace_exporter</title></head>
            <body>
            <h1>ftrace_exporter \(html(ExporterVersion.version))</h1>
            <p>Prometheus exporter for Linux ftrace in-kernel histograms.</p>
            <ul>
            <li><a href="\(html(options.telemetryPath))">\(html(options.telemetryPath))</a></li>
            <li><a href="/-/healthy">/-/healthy</a></li>
            <li><a href="/-/ready">/-/ready</a></li>
            </ul>
            \(admin)
            <h2>Trigger sets</h2>
            <table border="1" cellpadding="4"><tr><th>set</th><th>state</th><th>description</th></tr>
            \(rows)</table>
            </body></html>

            """
        return HTTPResponse(status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: .bytes(Array(page.utf8)))
    }

    // MARK: Admin API

    func addAdminRoutes(to router: Router) {
        // Requests the routes do not take (unknown paths and actions, other methods, bodies or
        // headers too large) are admin requests too, counted as action "unknown".
        router.formatErrors(under: "/api/v1/") { [metrics] status, message in
            metrics.countAdminRequest(action: "unknown", code: status)
            return .json(status, JSON.object([("error", .string(message))]).serialized() + "\n")
        }
        router.add("GET", "/api/v1/status") { [self] request, _ in admin(request, action: "status", set: nil) { statusJSON() } }
        router.add("GET", "/api/v1/trigger-sets") { [self] request, _ in
            admin(request, action: "list", set: nil) {
                let features = controller.fs.features()
                return (200, .object([("trigger_sets", .array(controller.statuses().map { setJSON($0, features: features) }))]))
            }
        }
        router.add("GET", "/api/v1/trigger-sets/{name}") { [self] request, p in
            let name = p["name"] ?? ""
            return admin(request, action: "get", set: name) { () throws(ControlError) -> (Int, JSON) in
                let status = try controller.status(of: name)
                return (200, setJSON(status))
            }
        }
        for action in ["install", "remove", "clear", "pause", "continue"] {
            router.add("POST", "/api/v1/trigger-sets/{name}/\(action)") { [self] request, p in
                let name = p["name"] ?? ""
                return admin(request, action: action, set: name) { () throws(ControlError) -> (Int, JSON) in
                    // A failed action may have changed the kernel too (a rollback that did not
                    // finish): the snapshot is rebuilt either way before the answer.
                    defer { refresher.rebuildAfterChange() }
                    let status: TriggerSetStatus
                    switch action {
                    case "install": status = try controller.install(name)
                    case "remove": status = try controller.remove(name)
                    case "clear": status = try controller.control(name, .clear)
                    case "pause": status = try controller.control(name, .pause)
                    default: status = try controller.control(name, .continue)
                    }
                    return (200, setJSON(status))
                }
            }
        }
        router.add("POST", "/api/v1/remove-all") { [self] request, _ in
            admin(request, action: "remove-all", set: nil) {
                let results = controller.removeAll()
                refresher.rebuildAfterChange()
                let failed = results.filter { $0.error != nil }
                let body = JSON.object([("results", .array(results.map { r in
                    .object([("set", .string(r.set)), ("ok", .bool(r.error == nil)),
                             ("error", r.error.map { StatusJSON.error($0) } ?? .null)])
                }))])
                return (failed.isEmpty ? 200 : 500, body)
            }
        }
    }

    func setJSON(_ status: TriggerSetStatus, features: TraceFeatures? = nil) -> JSON {
        let set = controller.config.triggerSet(named: status.name)
        return StatusJSON.set(status, set, unsupportedReason: set.flatMap { controller.unsupportedReason(for: $0, features: features) })
    }

    func statusJSON() -> (Int, JSON) {
        let features = controller.fs.features()
        let config = controller.config
        return (200, .object([
            ("version", .string(ExporterVersion.version)),
            ("tracefs", .string(options.tracefsRoot)),
            ("instance", .string(config.instance)),
            ("ready", .bool(refresher.isReady)),
            ("refresh_interval_seconds", .number(refresher.refreshInterval)),
            ("last_refresh_timestamp_seconds", metrics.lastRefreshSeconds.map(JSON.number) ?? .null),
            ("features", StatusJSON.features(features)),
            ("missing_features", StatusJSON.missingFeatures(features)),
            ("trigger_sets", .array(controller.statuses().map { .object([("name", .string($0.name)), ("state", .string($0.state.rawValue))]) })),
        ]))
    }

    /// Authenticates, runs the action, answers JSON, counts and logs the request.
    func admin(_ request: HTTPRequest, action: String, set: String?, _ body: () throws(ControlError) -> (Int, JSON)) -> HTTPResponse {
        guard let auth = options.adminAuth else {
            return finish(request, action, set, 503, .object([("error", .string("the admin API is disabled; start the exporter with --admin.token-file"))]))
        }
        guard auth.allows(request.header("authorization")) else {
            var response = finish(request, action, set, 401, .object([("error", .string("missing or wrong bearer token"))]))
            response.headers.append(("WWW-Authenticate", "Bearer realm=\"ftrace_exporter\""))
            return response
        }
        do throws(ControlError) {
            let (code, json) = try body()
            return finish(request, action, set, code, json)
        } catch {
            return finish(request, action, set, error.httpStatus, StatusJSON.error(error))
        }
    }

    private func finish(_ request: HTTPRequest, _ action: String, _ set: String?, _ code: Int, _ json: JSON) -> HTTPResponse {
        metrics.countAdminRequest(action: action, code: code)
        let isRead = action == "status" || action == "list" || action == "get"
        // Reads that succeed change nothing and are frequent (dashboards, scripts): debug.
        let level: Logger.Level = code >= 500 ? .error : code >= 400 ? .warning : isRead ? .debug : .info
        logger.log(level: level, "admin request", metadata: [
            "remote": "\(request.remoteAddress)", "action": "\(action)", "set": "\(set ?? "")", "code": "\(code)",
            "result": "\(code < 400 ? "ok" : json.serialized())",
        ])
        return .json(code, json.serialized() + "\n")
    }
}

func html(_ s: String) -> String {
    var out = ""
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(c)
        }
    }
    return out
}
