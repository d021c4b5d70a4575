import Locking

/// A pure router from (method, path) to a handler, testable without a socket.
///
/// Patterns are made of literal segments and one-segment parameters, e.g.
/// `"/api/v1/trigger-sets/{name}/install"`. Matching works on the raw path split at "/", and each
/// segment is percent-decoded afterwards, so an encoded "%2F" can never act as a separator.
///
/// - An unknown path gives 404.
/// - A known path with another method gives 405 and an `Allow` header; HEAD is allowed, and
///   served by the GET handler, wherever GET is (unless a HEAD route is registered).
/// - A parameter that, decoded, is empty, contains "/", "..", NUL or another control character,
///   is longer than 128 bytes, or is not valid UTF-8 makes the route not match (so 404): handlers
///   can use a parameter as a name without re-validating it against path traversal.
/// - When several patterns match, the one with a literal segment earliest wins
///   (`/sets/reload` before `/sets/{name}`); among equals, the first registered.
/// - A route added with `replying:` may answer later (`HTTPReply.later`); the server calls
///   `reply(to:)`, and `handle(_:)` waits for such an answer on the calling thread.
public final class Router: @unchecked Sendable {
    /// A route handler: the request and the decoded path parameters by name.
    public typealias Handler = @Sendable (HTTPRequest, _ parameters: [String: String]) -> HTTPResponse
    /// A route handler that may answer later.
    public typealias ReplyHandler = @Sendable (HTTPRequest, _ parameters: [String: String]) -> HTTPReply
    /// Renders a 404 or 405 answer from its status and message.
    public typealias ErrorFormatter = @Sendable (_ status: Int, _ message: String) -> HTTPResponse

    enum Segment: Equatable {
        case literal(String)
        case parameter(String)
    }

    struct Route {
        let method: String
        let segments: [Segment]
        let handler: ReplyHandler
        let order: Int
    }

    /// The longest parameter, in bytes after decoding.
    public static let maximumParameterBytes = 128

    private let lock = Lock()
    private var routes: [Route] = []
    private var errorFormatters: [(prefix: String, format: ErrorFormatter)] = []

    /// Creates an empty router.
    public init() {}

    /// Registers `handler` for `method` on `pattern`.
    ///
    /// The pattern must start with "/", have no empty segment (except the root pattern "/"),
    /// and use each `{parameter}` name once and as a whole segment; anything else is a programming
    /// error and traps.
    public func add(_ method: String, _ pattern: String, _ handler: @escaping Handler) {
        add(method, pattern, replying: { request, parameters in .now(handler(request, parameters)) })
    }

    /// Registers `handler`, which may answer later, for `method` on `pattern` (same rules as
    /// `add(_:_:_:)`).
    public func add(_ method: String, _ pattern: String, replying handler: @escaping ReplyHandler) {
        let segments = Router.parsePattern(pattern)
        lock.withLock {
            routes.append(Route(method: method, segments: segments, handler: handler, order: routes.count))
        }
    }

    /// 404 and 405 answers for paths under `prefix` are made by `formatter`: an API that
    /// answers JSON answers its errors in JSON too.
    public func formatErrors(under prefix: String, _ formatter: @escaping ErrorFormatter) {
        lock.withLock { errorFormatters.append((prefix, formatter)) }
    }

    /// An error answer for `path`, rendered by the formatter of its prefix (plain text without
    /// one): the router's own 404 and 405, and the server's refusals (413, 431).
    public func errorResponse(_ status: Int, _ message: String, path: String) -> HTTPResponse {
        let formatters = lock.withLock { errorFormatters }
        if let formatter = formatters.first(where: { path.hasPrefix($0.prefix) }) { return formatter.format(status, message) }
        return .text(status, message + "\n")
    }

    /// Routes `request` and returns the handler's response, or 404/405, waiting on this thread
    /// for a route that answers later: for tests and tools, never on a server thread.
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        reply(to: request).waitForResponse()
    }

    /// Routes `request` and returns the handler's reply, or 404/405.
    public func reply(to request: HTTPRequest) -> HTTPReply {
        let snapshot = lock.withLock { routes }
        func error(_ status: Int, _ message: String) -> HTTPReply { .now(errorResponse(status, message, path: request.path)) }
        guard let raw = Router.splitPath(request.path) else { return error(404, "not found") }

        var matches: [(route: Route, parameters: [String: String])] = []
        for route in snapshot where route.segments.count == raw.count {
            if let parameters = Router.match(route.segments, raw) {
                matches.append((route, parameters))
            }
        }
        if matches.isEmpty { return error(404, "not found") }
        matches.sort { Router.precedes($0.route, $1.route) }

        if let hit = matches.first(where: { $0.route.method == request.method }) {
            return hit.route.handler(request, hit.parameters)
        }
        if request.method == "HEAD", let hit = matches.first(where: { $0.route.method == "GET" }) {
            return hit.route.handler(request, hit.parameters)
        }

        var allowed = Set(matches.map(\.route.method))
        if allowed.contains("GET") { allowed.insert("HEAD") }
        var response = errorResponse(405, "method not allowed", path: request.path)
        response.headers.append((name: "Allow", value: allowed.sorted().joined(separator: ", ")))
        return .now(response)
    }

    /// More literal segments earlier is more specific; then registration order.
    static func precedes(_ a: Route, _ b: Route) -> Bool {
        for (x, y) in zip(a.segments, b.segments) {
            switch (x, y) {
            case (.literal, .parameter): return true
            case (.parameter, .literal): return false
            default: continue
            }
        }
        return a.order < b.order
    }

    static func parsePattern(_ pattern: String) -> [Segment] {
        guard let raw = splitPath(pattern) else {
            preconditionFailure("route pattern \(pattern) must start with \"/\" and have no empty segment")
        }
        var names = Set<String>()
        return raw.map { part in
            if part.hasPrefix("{") && part.hasSuffix("}") && part.count > 2 {
                let name = String(part.dropFirst().dropLast())
                precondition(!name.contains("{") && !name.contains("}"), "bad parameter in route pattern \(pattern)")
                precondition(names.insert(name).inserted, "parameter {\(name)} repeated in route pattern \(pattern)")
                return .parameter(name)
            }
            precondition(!part.contains("{") && !part.contains("}"), "a parameter must be a whole segment in \(pattern)")
            return .literal(String(part))
        }
    }

    /// "/" -> [], "/a/b" -> ["a", "b"]; nil for a path not starting with "/" or with an empty
    /// segment ("//a", "/a/"), which no route can match.
    static func splitPath(_ path: String) -> [Substring]? {
        guard path.hasPrefix("/") else { return nil }
        if path == "/" { return [] }
        let parts = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        if parts.contains(where: \.isEmpty) { return nil }
        return parts
    }

    static func match(_ segments: [Segment], _ raw: [Substring]) -> [String: String]? {
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, raw) {
            guard let decoded = percentDecode(part) else { return nil }
            switch segment {
            case .literal(let literal):
                if decoded != literal { return nil }
            case .parameter(let name):
                guard isAcceptableParameter(decoded) else { return nil }
                parameters[name] = decoded
            }
        }
        return parameters
    }

    static func isAcceptableParameter(_ value: String) -> Bool {
        let utf8 = value.utf8
        if utf8.isEmpty || utf8.count > maximumParameterBytes { return false }
        if utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "/") }) { return false }
        return !value.contains("..")
    }

    /// Decodes %XX escapes; nil for a malformed escape or bytes that are not valid UTF-8.
    static func percentDecode(_ part: Substring) -> String? {
        let utf8 = part.utf8
        if !utf8.contains(UInt8(ascii: "%")) { return String(part) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%") {
                let first = utf8.index(after: index)
                guard first != utf8.endIndex else { return nil }
                let second = utf8.index(after: first)
                guard second != utf8.endIndex, let high = hexValue(utf8[first]), let low = hexValue(utf8[second]) else {
                    return nil
                }
                bytes.append(high << 4 | low)
                index = utf8.index(after: second)
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        let decoded = String(decoding: bytes, as: UTF8.self)
        // String(decoding:) repairs invalid UTF-8 with U+FFFD; a change in length exposes it.
        return decoded.utf8.elementsEqual(bytes) ? decoded : nil
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
