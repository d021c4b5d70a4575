import Dispatch
import Testing

@testable import HTTPServer

@Suite("Router")
struct RouterTests {
    /// A router whose handlers echo what they were called with.
    static func makeRouter() -> Router {
        let router = Router()
        router.add("GET", "/") { _, _ in .text(200, "root") }
        router.add("GET", "/metrics") { _, _ in .text(200, "metrics") }
        router.add("GET", "/api/v1/trigger-sets") { _, _ in .text(200, "list") }
        router.add("POST", "/api/v1/trigger-sets/{name}/install") { _, p in .text(200, "install \(p["name"]!)") }
        router.add("DELETE", "/api/v1/trigger-sets/{name}") { _, p in .text(200, "delete \(p["name"]!)") }
        router.add("GET", "/api/v1/trigger-sets/{name}") { _, p in .text(200, "get \(p["name"]!)") }
        router.add("GET", "/api/v1/trigger-sets/reload") { _, _ in .text(200, "literal reload") }
        router.add("GET", "/a/{x}/{y}") { _, p in .text(200, "\(p["x"]!)|\(p["y"]!)") }
        return router
    }

    func call(_ router: Router, _ method: String, _ path: String) -> (status: Int, text: String, allow: String?) {
        let response = router.handle(HTTPRequest(method: method, path: path))
        guard case .bytes(let bytes) = response.body else { return (response.status, "", response.header("Allow")) }
        return (response.status, String(decoding: bytes, as: UTF8.self), response.header("Allow"))
    }

    @Test("routes by method and path, with parameters", arguments: [
        ("GET", "/", 200, "root"),
        ("GET", "/metrics", 200, "metrics"),
        ("GET", "/api/v1/trigger-sets", 200, "list"),
        ("GET", "/api/v1/trigger-sets/wakeup", 200, "get wakeup"),
        ("DELETE", "/api/v1/trigger-sets/wakeup", 200, "delete wakeup"),
        ("POST", "/api/v1/trigger-sets/wakeup_latency/install", 200, "install wakeup_latency"),
        ("POST", "/api/v1/trigger-sets/wake%20up/install", 200, "install wake up"),
        ("POST", "/api/v1/trigger-sets/caf%C3%A9/install", 200, "install café"),
        ("GET", "/metric%73", 200, "metrics"),
        ("GET", "/a/1/2", 200, "1|2"),
        ("GET", "/api/v1/trigger-sets/reload", 200, "literal reload"),
    ])
    func routes(method: String, path: String, status: Int, text: String) {
        let result = call(RouterTests.makeRouter(), method, path)
        #expect(result.status == status)
        #expect(result.text == text)
    }

    @Test("unknown paths and rejected parameters give 404", arguments: [
        "/nope",
        "/metrics/",
        "//metrics",
        "/metrics/extra",
        "metrics",
        "",
        "*",
        "/api/v1/trigger-sets/%2e%2e/install",
        "/api/v1/trigger-sets/%2E%2E/install",
        "/api/v1/trigger-sets/../install",
        "/api/v1/trigger-sets/a..b/install",
        "/api/v1/trigger-sets/a%2Fb/install",
        "/api/v1/trigger-sets/a%2fb/install",
        "/api/v1/trigger-sets/%00/install",
        "/api/v1/trigger-sets/a%0Ab/install",
        "/api/v1/trigger-sets/a%7Fb/install",
        "/api/v1/trigger-sets/a%09b/install",
        "/api/v1/trigger-sets//install",
        "/api/v1/trigger-sets/%ff/install",
        "/api/v1/trigger-sets/%zz/install",
        "/api/v1/trigger-sets/abc%2/install",
        "/api/v1/trigger-sets/" + String(repeating: "n", count: 129) + "/install",
        "/api/v1/trigger-sets/" + String(repeating: "%41", count: 129) + "/install",
    ])
    func notFound(path: String) {
        let result = call(RouterTests.makeRouter(), "POST", path)
        #expect(result.status == 404, "\(path)")
        #expect(result.allow == nil)
    }

    @Test("a parameter of exactly 128 bytes is accepted")
    func longestParameter() {
        let name = String(repeating: "n", count: 128)
        #expect(call(RouterTests.makeRouter(), "POST", "/api/v1/trigger-sets/\(name)/install").status == 200)
    }

    @Test("a known path with another method gives 405 and Allow", arguments: [
        ("POST", "/metrics", "GET, HEAD"),
        ("PUT", "/api/v1/trigger-sets/x", "DELETE, GET, HEAD"),
        ("GET", "/api/v1/trigger-sets/x/install", "POST"),
        ("get", "/metrics", "GET, HEAD"),
    ])
    func methodNotAllowed(method: String, path: String, allow: String) {
        let result = call(RouterTests.makeRouter(), method, path)
        #expect(result.status == 405)
        #expect(result.allow == allow)
    }

    @Test("404 and 405 under a prefix with an error formatter use it; other paths keep plain text")
    func formattedErrors() {
        let router = RouterTests.makeRouter()
        router.formatErrors(under: "/api/") { status, message in .json(status, "{\"error\":\"\(message)\"}") }
        let missing = router.handle(HTTPRequest(method: "GET", path: "/api/v2/nothing"))
        #expect(missing.status == 404)
        #expect(missing.header("Content-Type") == "application/json")
        let wrong = router.handle(HTTPRequest(method: "GET", path: "/api/v1/trigger-sets/x/install"))
        #expect(wrong.status == 405)
        #expect(wrong.header("Content-Type") == "application/json")
        #expect(wrong.header("Allow") == "POST")
        #expect(call(router, "GET", "/api/v1/trigger-sets/x/install").text == "{\"error\":\"method not allowed\"}")
        let plain = router.handle(HTTPRequest(method: "GET", path: "/nothing"))
        #expect(plain.status == 404)
        #expect(plain.header("Content-Type")?.hasPrefix("text/plain") == true)
    }

    @Test("HEAD is served by the GET handler unless a HEAD route exists")
    func head() {
        let router = RouterTests.makeRouter()
        #expect(call(router, "HEAD", "/metrics") == (200, "metrics", nil))
        router.add("HEAD", "/metrics") { _, _ in .text(204, "") }
        #expect(call(router, "HEAD", "/metrics").status == 204)
    }

    @Test("the handler receives the request")
    func passesRequest() {
        let router = Router()
        router.add("POST", "/echo/{id}") { request, parameters in
            .text(200, "\(parameters["id"]!) \(request.query ?? "-") \(request.header("X-Test") ?? "-") \(String(decoding: request.body, as: UTF8.self))")
        }
        let request = HTTPRequest(method: "POST", path: "/echo/7", query: "a=1", headers: [("X-Test", "yes")], body: Array("body".utf8))
        guard case .bytes(let bytes) = router.handle(request).body else {
            Issue.record("expected bytes")
            return
        }
        #expect(String(decoding: bytes, as: UTF8.self) == "7 a=1 yes body")
    }

    @Test("a route that answers later: the server gets its start, handle(_:) waits for the answer, HEAD included")
    func routesAnsweringLater() {
        let router = Router()
        router.add("GET", "/slow/{name}", replying: { _, p in
            .later { responder in
                DispatchQueue.global().async { responder.respond(.text(200, "later \(p["name"]!)")) }
            }
        })
        router.add("GET", "/fast", replying: { _, _ in .now(.text(200, "now")) })
        guard case .later = router.reply(to: HTTPRequest(method: "GET", path: "/slow/x")) else {
            Issue.record("a replying route's .later reached the caller as something else")
            return
        }
        #expect(call(router, "GET", "/slow/x").text == "later x")
        #expect(call(router, "HEAD", "/slow/y").text == "later y")
        #expect(call(router, "GET", "/fast").text == "now")
        #expect(call(router, "POST", "/slow/x").status == 405)
    }
}

@Suite("HTTPRequest and HTTPResponse")
struct MessageTests {
    @Test("header lookup is case-insensitive and returns the first match; names are lower-cased")
    func headerLookup() {
        let request = HTTPRequest(
            method: "GET", path: "/",
            headers: [("Accept-Encoding", "gzip"), ("X-Dup", "one"), ("x-dup", "two")]
        )
        #expect(request.headers.map(\.name) == ["accept-encoding", "x-dup", "x-dup"])
        #expect(request.header("ACCEPT-ENCODING") == "gzip")
        #expect(request.header("x-Dup") == "one")
        #expect(request.header("missing") == nil)
    }

    @Test("text and json set the content type")
    func convenience() {
        let text = HTTPResponse.text(200, "hi")
        #expect(text.header("content-type") == "text/plain; charset=utf-8")
        #expect(text.body.count == 2)
        let json = HTTPResponse.json(201, "{}")
        #expect(json.status == 201)
        #expect(json.header("Content-Type") == "application/json")
    }

    @Test("SharedBody keeps its bytes")
    func sharedBody() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let shared = SharedBody(bytes)
        #expect(shared.count == 1000)
        #expect(shared.bytes == bytes)
        #expect(SharedBody([]).bytes == [])
    }
}
