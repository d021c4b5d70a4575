/// An HTTP request as the handler sees it: fully received, body included.
public struct HTTPRequest: Sendable {
    /// The request method exactly as sent ("GET", "HEAD", "POST", ...); methods are case-sensitive.
    public var method: String
    /// The request target up to the first "?", not percent-decoded: decoding is the router's job,
    /// because a decoded "%2F" would otherwise be indistinguishable from a segment separator.
    public var path: String
    /// The raw query after the first "?", or nil when the target has no "?".
    public var query: String?
    /// Header fields in the order received, names lower-cased.
    public var headers: [(name: String, value: String)]
    /// The request body (at most `HTTPServerConfiguration.maximumBodyBytes` bytes).
    public var body: [UInt8]
    /// The peer as "127.0.0.1:54321" or "[::1]:54321"; IPv4 peers on a dual-stack socket are shown as IPv4.
    public var remoteAddress: String

    /// Creates a request; header names are lower-cased so tests and the server build the same value.
    public init(
        method: String,
        path: String,
        query: String? = nil,
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = [],
        remoteAddress: String = ""
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers.map { (name: asciiLowercased($0.name), value: $0.value) }
        self.body = body
        self.remoteAddress = remoteAddress
    }

    /// The value of the first header field with this name, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { asciiCaseInsensitiveEquals($0.name, name) }?.value
    }
}

/// What a response carries after its header block.
public enum ResponseBody: Sendable {
    /// No body (Content-Length: 0 where the status allows a body).
    case empty
    /// Bytes for this response only; the server copies them once into libmicrohttpd.
    case bytes([UInt8])
    /// Bytes prepared once and served to many requests without a copy.
    case shared(SharedBody)

    /// The number of body bytes (what a HEAD response announces as Content-Length).
    public var count: Int {
        switch self {
        case .empty: return 0
        case .bytes(let bytes): return bytes.count
        case .shared(let shared): return shared.count
        }
    }
}

/// An HTTP response: status, header fields and body.
///
/// Content-Length is computed by the server (one given here is not sent), and Date is added
/// unless given here. A header whose name or value libmicrohttpd rejects (e.g. a value containing
/// CR or LF) is not sent, and the error log says so. For HEAD requests the headers, with the
/// Content-Length the body would have, are sent and the body is not.
public struct HTTPResponse: Sendable {
    /// The status code; 1xx codes (which cannot end a request) and values outside 200...999 are
    /// sent as 500.
    public var status: Int
    /// Header fields, sent in this order after the server's own.
    public var headers: [(name: String, value: String)]
    /// The body.
    public var body: ResponseBody

    /// Creates a response.
    public init(status: Int, headers: [(name: String, value: String)] = [], body: ResponseBody = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A `text/plain; charset=utf-8` response.
    public static func text(_ status: Int, _ text: String) -> HTTPResponse {
        HTTPResponse(
            status: status,
            headers: [(name: "Content-Type", value: "text/plain; charset=utf-8")],
            body: .bytes(Array(text.utf8))
        )
    }

    /// An `application/json` response; `json` must already be serialized JSON.
    public static func json(_ status: Int, _ json: String) -> HTTPResponse {
        HTTPResponse(
            status: status,
            headers: [(name: "Content-Type", value: "application/json")],
            body: .bytes(Array(json.utf8))
        )
    }

    /// The value of the first header field with this name, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { asciiCaseInsensitiveEquals($0.name, name) }?.value
    }
}
