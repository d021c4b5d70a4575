#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A blocking HTTP/1.1 client for 127.0.0.1: one request at a time on one connection, kept
/// alive, as Prometheus scrapes. Only what the benchmarks need: a Content-Length body.
final class LoopbackClient {
    struct Response {
        var status: Int
        var bodyBytes: Int
    }

    /// A response head or body larger than this is not one the exporter sends.
    static let maximumResponseBytes = 64 << 20

    private let fd: Int32
    private var buffer: [UInt8] = []

    init(port: UInt16) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if fd < 0 { fail("socket: errno \(errno)") }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result != 0 { fail("connect to 127.0.0.1:\(port): errno \(errno)") }
    }

    deinit { close(fd) }

    /// Sends `request` (a complete request head, and body if any) and reads the response.
    func exchange(_ request: String) -> Response {
        var bytes = Array(request.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeMutableBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                fail("send: errno \(errno)")
            }
            offset += n
        }
        bytes = []
        return readResponse()
    }

    private func readResponse() -> Response {
        let separator: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int?
        var searched = 0
        while headEnd == nil {
            if buffer.count >= 4 {
                headEnd = (max(0, searched - 3)...(buffer.count - 4)).first { buffer[$0..<($0 + 4)].elementsEqual(separator) }
                searched = buffer.count
            }
            if headEnd == nil { fill() }
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        buffer.removeSubrange(..<(headEnd! + 4))
        let lines = head.split(separator: "\r\n")
        let statusWords = lines.first?.split(separator: " ") ?? []
        guard statusWords.count >= 2, let status = Int(statusWords[1]) else { fail("bad status line: \(lines.first ?? "")") }
        var length = 0
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "content-length" {
                length = Int(parts[1].drop { $0 == " " }) ?? 0
            }
        }
        if length > Self.maximumResponseBytes { fail("response body of \(length) bytes") }
        while buffer.count < length { fill() }
        buffer.removeSubrange(..<length)
        return Response(status: status, bodyBytes: length)
    }

    private func fill() {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n > 0 {
                buffer.append(contentsOf: chunk[..<n])
                if buffer.count > Self.maximumResponseBytes { fail("response over \(Self.maximumResponseBytes) bytes") }
                return
            }
            if n < 0 && errno == EINTR { continue }
            fail(n == 0 ? "the server closed the connection" : "recv: errno \(errno)")
        }
    }
}
