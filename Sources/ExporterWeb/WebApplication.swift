import Exporter
import Exposition
import HTTPServer
import Logging
import Platform
import TraceFS

/// The exporter's HTTP surface as routers: metrics, landing page and health on one side,
/// the admin API on the other (served on the same listener or on its own).
///
/// What waits for the trigger sets (an admin action, which takes the kernel up to seconds, and
/// every read of the sets' state, which waits for an action under way) answers later: it runs on
/// `actions`, one at a time, and holds no server thread meanwhile, so scrapes on the same
/// listener are served at their usual latency.
public final class WebApplication: Sendable {
    public struct Options: Sendable {
        public var telemetryPath: String
        /// nil: the admin API is off.
        public var adminAuth: AdminAuth?
        public var tracefsRoot: String
        /// `--web.enable-lifecycle`: runs the reload SIGHUP runs, off the server threads, and
        /// calls back with why it was rejected (nil: taken). nil: `/-/reload` answers 403.
        public var reload: (@Sendable (_ done: @escaping @Sendable (String?) -> Void) -> Void)?
        /// `--web.scrape-timeout-offset`, in seconds: see `ScrapeDeadline`.
        public var scrapeTimeoutOffset: Double
        public init(
            telemetryPath: String = "/metrics", adminAuth: AdminAuth? = nil, tracefsRoot: String,
            reload: (@Sendable (_ done: @escaping @Sendable (String?) -> Void) -> Void)? = nil,
            scrapeTimeoutOffset: Double = 0.5
        ) {
            self.telemetryPath = telemetryPath
            self.adminAuth = adminAuth
            self.tracefsRoot = tracefsRoot
            self.reload = reload
            self.scrapeTimeoutOffset = scrapeTimeoutOffset
        }
    }

    let refresher: Refresher
    let controller: TriggerController
    let metrics: ExporterMetrics
    let options: Options
    let logger: Logger
    let bodies = ScrapeBodies()
    /// The queue admin actions and reads of the sets' state run on.
    let actions = ActionQueue(capacity: WebApplication.actionsWaitingAtMost)
    /// Past this many waiting, requests that would wait are answered 503 with Retry-After.
    static let actionsWaitingAtMost = 64
    /// Retry-After of that 503, in seconds: about one action.
    static let retryAfterSeconds = 5

    public init(refresher: Refresher, controller: TriggerController, metrics: ExporterMetrics, options: Options, logger: Logger) {
        self.refresher = refresher
        self.controller = controller
        self.metrics = metrics
        self.options = options
        self.logger = logger
        refresher.beforePublishing { [bodies] in bodies.prepare($0) }
    }

    /// Routes for the metrics listener; with `includeAdmin`, the admin API too.
    public func router(includeAdmin: Bool) -> Router {
        let router = Router()
        router.add("GET", options.telemetryPath) { [self] request, _ in scrape(request) }
        router.add("GET", "/", replying: { [self] _, _ in
            onActionQueue({ [self] in landingPage(adminHere: includeAdmin) }, refused: { .text(503, $0 + "\n") })
        })
        router.add("GET", "/-/healthy") { _, _ in .text(200, "Healthy\n") }
        router.add("GET", "/-/ready") { [self] _, _ in
            refresher.isReady ? .text(200, "Ready\n") : .text(503, "Not ready: the first refresh has not finished\n")
        }
        // As Prometheus and the exporter toolkit: POST or PUT, and only with --web.enable-lifecycle.
        for method in ["POST", "PUT"] {
            router.add(method, "/-/reload", replying: { [self] request, _ in lifecycleReload(request) })
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

    /// Admin requests still waiting are answered 503, and the action running finishes: what
    /// comes after (removing the sets at exit) is not undone by an install queued before it.
    public func stopActions() {
        actions.close()
    }

    /// `answer`, made on the action queue. `refused` renders the 503 when the queue is full or
    /// closed.
    func onActionQueue(_ answer: @escaping @Sendable () -> HTTPResponse, refused: @escaping @Sendable (String) -> HTTPResponse) -> HTTPReply {
        .later { [actions] responder in
            do throws(ActionQueue.Refusal) {
                try actions.submit({ responder.respond(answer()) }, cancelled: { responder.respond(refused("the exporter is stopping")) })
            } catch .full {
                var response = refused("\(actions.capacity) requests are already waiting for the trigger sets; try again later")
                response.headers.append(("Retry-After", String(WebApplication.retryAfterSeconds)))
                responder.respond(response)
            } catch {
                responder.respond(refused("the exporter is stopping"))
            }
        }
    }

    // MARK: Metrics

    func scrape(_ request: HTTPRequest) -> HTTPResponse {
        let deadline: Double?
        switch ScrapeDeadline.seconds(header: request.header(ScrapeDeadline.header), offset: options.scrapeTimeoutOffset) {
        case .success(let seconds): deadline = seconds
        case .failure(let invalid): return .text(400, "\(invalid)\n")
        }
        let snapshot = refresher.snapshotForScrape(deadline: deadline)
        let format = ExpositionFormat.negotiate(accept: request.header("accept"))
        let gzip = acceptsGzip(request.header("accept-encoding"))
        var headers: [(name: String, value: String)] = [("Content-Type", format.contentType), ("Vary", "Accept, Accept-Encoding")]
        if gzip { headers.append(("Content-Encoding", "gzip")) }
        return HTTPResponse(status: 200, headers: headers, body: .shared(bodies.body(of: snapshot, format: format, gzip: gzip)))
    }

    func lifecycleReload(_ request: HTTPRequest) -> HTTPReply {
        guard let reload = options.reload else {
            return .now(.text(403, "Lifecycle API is not enabled: start the exporter with --web.enable-lifecycle\n"))
        }
        logger.info("reload requested over HTTP", metadata: ["remote": "\(request.remoteAddress)"])
        return .later { responder in
            reload { failure in
                responder.respond(failure.map { .text(500, "Reload rejected; the running configuration stays: \($0)\n") }
                    ?? .text(200, "Reloaded\n"))
            }
        }
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
            : "<p>Admin API: <a href=\"/api/v1/status\">/api/v1/status</a>, <a href=\"/api/v1/trigger-sets\">/api/v1/trigger-sets</a>, <a href=\"/api/v1/tables\">/api/v1/tables</a> (Bearer token required).</p>"
        let stackTables = options.adminAuth != nil && adminHere ? stackTablesSection() : ""
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
            \(stackTables)</body></html>

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
        router.add("GET", "/api/v1/status", replying: { [self] request, _ in admin(request, action: "status", set: nil) { [self] in statusJSON() } })
        router.add("GET", "/api/v1/trigger-sets", replying: { [self] request, _ in
            admin(request, action: "list", set: nil) { [self] in
                let features = controller.fs.features()
                return (200, .object([("trigger_sets", .array(controller.statuses().map { setJSON($0, features: features) }))]))
            }
        })
        router.add("GET", "/api/v1/trigger-sets/{name}", replying: { [self] request, p in
            let name = p["name"] ?? ""
            return admin(request, action: "get", set: name) { [self] () throws(ControlError) -> (Int, JSON) in
                let status = try controller.status(of: name)
                return (200, setJSON(status))
            }
        })
        // Only install takes a parameter (duration); the other actions take none.
        for action in ["install", "remove", "clear", "pause", "continue"] {
            router.add("POST", "/api/v1/trigger-sets/{name}/\(action)", replying: { [self] request, p in
                let name = p["name"] ?? ""
                return admin(request, action: action, set: name) { [self] () throws(ControlError) -> (Int, JSON) in
                    // A failed action may have changed the kernel too (a rollback that did not
                    // finish): the snapshot is rebuilt either way before the answer.
                    defer { rebuildAfterChange() }
                    let status: TriggerSetStatus
                    switch action {
                    case "install": status = try controller.install(name, for: try Self.installDuration(query: request.query))
                    case "remove": status = try controller.remove(name)
                    case "clear": status = try controller.control(name, .clear)
                    case "pause": status = try controller.control(name, .pause)
                    default: status = try controller.control(name, .continue)
                    }
                    return (200, setJSON(status))
                }
            })
        }
        addTableRoutes(to: router)
        router.add("POST", "/api/v1/remove-all", replying: { [self] request, _ in
            admin(request, action: "remove-all", set: nil) { [self] in
                let results = controller.removeAll()
                rebuildAfterChange()
                let failed = results.filter { $0.error != nil }
                let body = JSON.object([("results", .array(results.map { r in
                    .object([("set", .string(r.set)), ("ok", .bool(r.error == nil)),
                             ("error", r.error.map { StatusJSON.error($0) } ?? .null)])
                }))])
                return (failed.isEmpty ? 200 : 500, body)
            }
        })
    }

    /// An install's `?duration=` (a Prometheus duration such as 10m), or nil without one. Any
    /// other parameter is refused rather than ignored: a misspelt `duration` would otherwise
    /// install the set for good.
    static func installDuration(query: String?) throws(ControlError) -> Double? {
        guard let query, !query.isEmpty else { return nil }
        var duration: Double?
        for pair in query.split(separator: "&", omittingEmptySubsequences: false) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0].prefix(40))
            guard key == "duration", parts.count == 2 else {
                throw ControlError(.durationRefused("install takes one parameter, duration (such as ?duration=10m); got '\(key)'"))
            }
            guard duration == nil else { throw ControlError(.durationRefused("duration is given twice")) }
            guard let seconds = parseDurationFlag(String(parts[1].prefix(40))) else {
                throw ControlError(.durationRefused("'\(parts[1].prefix(40))' is not a duration (such as 90s, 10m or 1h30m)"))
            }
            duration = seconds
        }
        return duration
    }

    /// The snapshot rebuilt after an action, with the bodies scrapers asked for last made for
    /// it on the action's thread before scrapes see it (`beforePublishing`).
    func rebuildAfterChange() {
        refresher.rebuildAfterChange()
    }

    func setJSON(_ status: TriggerSetStatus, features: TraceFeatures? = nil) -> JSON {
        let set = controller.config.triggerSet(named: status.name)
        return StatusJSON.set(
            status, set, unsupportedReason: set.flatMap { controller.unsupportedReason(for: $0, features: features) },
            deadline: controller.deadlines.deadline(of: status.name), breaker: refresher.breaker.state(of: status.name))
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
            ("trigger_sets", .array(controller.statuses().map {
                .object([
                    ("name", .string($0.name)), ("state", .string($0.state.rawValue)),
                    ("expires_at", controller.deadlines.deadline(of: $0.name).map { .string(utcTimestamp(unixSeconds: $0)) } ?? .null),
                    ("breaker_tripped_at", refresher.breaker.state(of: $0.name)?.lastTrip.map { .string(utcTimestamp(unixSeconds: $0.at)) } ?? .null),
                ])
            })),
        ]))
    }

    /// Authenticates on the server thread (a refusal is answered at once), then runs the action
    /// on the action queue; answers JSON, counts and logs the request.
    func admin(
        _ request: HTTPRequest, action: String, set: String?, _ body: @escaping @Sendable () throws(ControlError) -> (Int, JSON)
    ) -> HTTPReply {
        authorized(request, action: action, set: set) { [self] in
            do throws(ControlError) {
                let (code, json) = try body()
                return finish(request, action, set, code, json)
            } catch {
                return finish(request, action, set, error.httpStatus, StatusJSON.error(error))
            }
        }
    }

    /// Authenticates on the server thread (a refusal is answered at once, in JSON), then makes
    /// the answer on the action queue; the answer counts and logs itself.
    func authorized(_ request: HTTPRequest, action: String, set: String?, _ answer: @escaping @Sendable () -> HTTPResponse) -> HTTPReply {
        guard let auth = options.adminAuth else {
            return .now(finish(request, action, set, 503, .object([("error", .string("the admin API is disabled; start the exporter with --admin.token-file"))])))
        }
        guard auth.allows(request.header("authorization")) else {
            var response = finish(request, action, set, 401, .object([("error", .string("missing or wrong bearer token"))]))
            response.headers.append(("WWW-Authenticate", "Bearer realm=\"ftrace_exporter\""))
            return .now(response)
        }
        return onActionQueue(answer, refused: { [self] message in finish(request, action, set, 503, .object([("error", .string(message))])) })
    }

    func finish(_ request: HTTPRequest, _ action: String, _ set: String?, _ code: Int, _ json: JSON) -> HTTPResponse {
        count(request, action, set, code, result: code < 400 ? "ok" : json.serialized())
        return .json(code, json.serialized() + "\n")
    }

    /// Counts and logs an admin request's answer.
    func count(_ request: HTTPRequest, _ action: String, _ set: String?, _ code: Int, result: String) {
        metrics.countAdminRequest(action: action, code: code)
        let isRead = ["status", "list", "get", "tables", "stacks"].contains(action)
        // Reads that succeed change nothing and are frequent (dashboards, scripts): debug.
        let level: Logger.Level = code >= 500 ? .error : code >= 400 ? .warning : isRead ? .debug : .info
        logger.log(level: level, "admin request", metadata: [
            "remote": "\(request.remoteAddress)", "action": "\(action)", "set": "\(set ?? "")", "code": "\(code)",
            "result": "\(result)",
        ])
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
